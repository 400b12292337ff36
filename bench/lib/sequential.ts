/**
 * Timed GETs one after another on one keep-alive connection, each with its own Host header:
 * the latency of single requests (a cold host, a warm one) without a TCP handshake in it.
 */
import { Agent, request } from "node:http";

export interface TimedReply {
  readonly host: string;
  readonly status: number;
  /** From writing the request to the last body byte. */
  readonly ms: number;
}

export interface SequentialClient {
  get(host: string, path: string): Promise<TimedReply>;
  close(): void;
}

/** One socket, reused for every request; each request is bounded by `deadlineMs`. */
export function sequentialClient(port: number, deadlineMs: number): SequentialClient {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    get: (host, path) =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        const req = request({ host: "127.0.0.1", port, path, agent, headers: { host } }, (res) => {
          res.on("data", () => {});
          res.on("error", fail);
          res.on("end", () => {
            clearTimeout(timer);
            resolve({ host, status: res.statusCode ?? 0, ms: performance.now() - started });
          });
        });
        const timer = setTimeout(() => req.destroy(new Error(`GET ${path} (Host ${host}): no answer in ${deadlineMs} ms`)), deadlineMs);
        function fail(error: Error): void {
          clearTimeout(timer);
          reject(error);
        }
        req.on("error", fail);
        req.end();
      }),
    close: () => agent.destroy(),
  };
}
