/** One plain GET from the orchestrator (priming a key, measuring one response), with a chosen Host header. */
import { request } from "node:http";

const DEADLINE_MS = 30_000;

export interface Reply {
  status: number;
  cacheStatus: string;
  /** Body bytes as received: compressed when the response is (Node's http client never decodes). */
  bytes: number;
  /** Content-Encoding, "identity" when absent. */
  encoding: string;
  /** From writing the request to the last body byte. */
  ms: number;
}

/** Rejects when the whole response (headers and body) has not arrived within `deadlineMs`. */
export function getOnce(
  port: number,
  host: string,
  path: string,
  headers: Record<string, string> = {},
  deadlineMs = DEADLINE_MS,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: "127.0.0.1", port, path, headers: { ...headers, host }, agent: false }, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => (bytes += chunk.length));
      res.on("error", fail);
      res.on("close", () => {
        if (!res.complete) fail(new Error(`GET ${path}: response ended early after ${bytes} body bytes`));
      });
      res.on("end", () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          cacheStatus: String(res.headers["cache-status"] ?? ""),
          bytes,
          encoding: String(res.headers["content-encoding"] ?? "identity"),
          ms: performance.now() - started,
        });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`GET ${path}: not complete in ${deadlineMs} ms`)), deadlineMs);
    function fail(error: Error): void {
      clearTimeout(timer);
      reject(error);
    }
    req.on("error", fail);
    req.end();
  });
}
