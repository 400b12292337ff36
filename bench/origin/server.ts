/**
 * The bench origin: Node http on 127.0.0.1, in its own process so its CPU is not the proxy's
 * or the load generator's. Each `/b/<profile>/<latencyMs>/<bytes>/<key>` answers after
 * `latencyMs` with `bytes` of text, the profile's Cache-Control, an ETag and Last-Modified, and
 * a 304 to a matching `If-None-Match` (RFC 9110 §13.1.2). A key ending in `.json` or `.html`
 * gets a realistic JSON or HTML body of about `bytes` (bodies.ts). Every request is counted per path:
 *
 *   GET /_control/ping                 200 "ok"
 *   GET /_control/count?path=P         {"requests": n, "notModified": n} for exactly P
 *   GET /_control/count?prefix=P       the same, summed over every path starting with P
 *   GET /_control/reset                forget all counts
 *
 * Run: `tsx bench/origin/server.ts --port 0`; prints {"port": N} once listening.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { type BodyKind, bodyKind, CONTENT_TYPES, makeBody } from "./bodies";
import { CACHE_PROFILES, CONTROL_PREFIX, parseOriginPath } from "./url";

/** Longer than any proxy's upstream idle timeout, so a proxy never reuses a closing socket. */
const KEEP_ALIVE_TIMEOUT_MS = 300_000;
const LAST_MODIFIED = new Date(Date.UTC(2025, 0, 1)).toUTCString();

export interface Counts {
  requests: number;
  notModified: number;
}

/** What /_control/count answers: the sum over `paths` matching paths. */
export interface CountReply extends Counts {
  paths: number;
}

export function startBenchOrigin(port: number): Promise<Server> {
  const counts = new Map<string, Counts>();
  const bodies = new Map<string, Buffer>();
  const server = createServer(function benchOrigin(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://origin");
    if (url.pathname.startsWith(CONTROL_PREFIX)) return control(url, counts, res);
    const parts = parseOriginPath(url.pathname);
    if (!parts) return void res.writeHead(404, { "cache-control": "no-store", "content-length": "0" }).end();
    const entry = counts.get(url.pathname) ?? { requests: 0, notModified: 0 };
    counts.set(url.pathname, entry);
    entry.requests++;
    const kind = bodyKind(parts.key);
    const etag = `"v1-${kind}-${parts.bytes}"`;
    const headers = {
      "content-type": CONTENT_TYPES[kind],
      "cache-control": CACHE_PROFILES[parts.profile],
      etag,
      "last-modified": LAST_MODIFIED,
      // `?tag=x`: a purge tag (Cloudflare's Cache-Tag), for the purge scenario.
      ...(url.searchParams.has("tag") ? { "cache-tag": url.searchParams.get("tag") ?? "" } : {}),
    };
    const notModified = (req.headers["if-none-match"] ?? "").split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
    if (notModified) entry.notModified++;
    const answer = () => {
      if (notModified) return void res.writeHead(304, headers).end();
      const body = bodyOf(kind, parts.bytes, bodies);
      res.writeHead(200, { ...headers, "content-length": String(body.length) }).end(req.method === "HEAD" ? undefined : body);
    };
    if (parts.latencyMs > 0) setTimeout(answer, parts.latencyMs);
    else answer();
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

function control(url: URL, counts: Map<string, Counts>, res: ServerResponse): void {
  const reply = (value: unknown): void => {
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(value));
  };
  switch (url.pathname.slice(CONTROL_PREFIX.length)) {
    case "ping":
      return reply("ok");
    case "reset":
      counts.clear();
      return reply("ok");
    case "count": {
      const path = url.searchParams.get("path");
      const prefix = url.searchParams.get("prefix");
      const sum: CountReply = { requests: 0, notModified: 0, paths: 0 };
      for (const [key, entry] of counts) {
        if (path !== null ? key !== path : prefix === null || !key.startsWith(prefix)) continue;
        sum.requests += entry.requests;
        sum.notModified += entry.notModified;
        sum.paths++;
      }
      return reply(sum);
    }
    default:
      res.writeHead(404, { "content-length": "0" }).end();
  }
}

function bodyOf(kind: BodyKind, bytes: number, bodies: Map<string, Buffer>): Buffer {
  let body = bodies.get(`${kind}/${bytes}`);
  if (!body) {
    body = Buffer.from(makeBody(kind, bytes));
    bodies.set(`${kind}/${bytes}`, body);
  }
  return body;
}

if (process.argv[1]?.endsWith("server.ts")) {
  const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });
  const server = await startBenchOrigin(Number(values.port));
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      server.closeAllConnections();
      server.close(() => process.exit(0));
    });
  }
}
