/** One plain GET from the orchestrator (priming a key), with a chosen Host header. */
import { request } from "node:http";

const TIMEOUT_MS = 30_000;

export interface Reply {
  status: number;
  cacheStatus: string;
}

export function getOnce(port: number, host: string, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host }, agent: false, timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, cacheStatus: String(res.headers["cache-status"] ?? "") }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path}: no answer in ${TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end();
  });
}
