import { createServer } from "node:http";
import type { TestProject } from "vitest/node";
export default async function ({ provide }: TestProject) {
  const server = createServer((req, res) => { res.end("origin:" + req.url); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const addr = server.address();
  provide("originPort", typeof addr === "object" && addr ? addr.port : 0);
  return () => new Promise<void>((r) => server.close(() => r()));
}
declare module "vitest" { export interface ProvidedContext { originPort: number } }
