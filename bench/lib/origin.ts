/** Starts the bench origin as a service and reads its per-path request counts. */
import { join } from "node:path";
import type { CountReply } from "../origin/server";
import { BENCH_DIR, TSX } from "./paths";
import { freePort, logTail, type Service, startService, waitForHttp } from "./procs";

const READY_TIMEOUT_MS = 20_000;

export interface OriginHandle {
  readonly port: number;
  readonly url: string;
  readonly service: Service;
  /** Requests that reached the origin for exactly `path`. */
  count(path: string): Promise<CountReply>;
  /** The same, summed over every path starting with `prefix`. */
  countPrefix(prefix: string): Promise<CountReply>;
}

export async function startOrigin(tmp: string): Promise<OriginHandle> {
  const port = await freePort();
  const service = startService("origin", TSX, [join(BENCH_DIR, "origin", "server.ts"), "--port", String(port)], join(tmp, "origin.log"));
  if (!(await waitForHttp(port, "/_control/ping", `127.0.0.1:${port}`, READY_TIMEOUT_MS, service))) {
    throw new Error(`bench origin did not start:\n${logTail(service)}`);
  }
  const url = `http://127.0.0.1:${port}`;
  const query = async (param: "path" | "prefix", value: string): Promise<CountReply> => {
    const res = await fetch(`${url}/_control/count?${param}=${encodeURIComponent(value)}`);
    return (await res.json()) as CountReply;
  };
  return { port, url, service, count: (path) => query("path", path), countPrefix: (prefix) => query("prefix", prefix) };
}
