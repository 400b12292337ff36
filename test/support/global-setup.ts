import type { TestProject } from "vitest/node";
import { startOriginServer } from "./origin-server";

/** Starts the scriptable origin once for the workerd project; tests find it via `inject`. */
export default async function ({ provide }: TestProject) {
  const origin = await startOriginServer();
  provide("originPort", origin.port);
  return () => origin.close();
}

declare module "vitest" {
  export interface ProvidedContext {
    originPort: number;
  }
}
