/**
 * A scriptable HTTP origin on 127.0.0.1 for integration tests (Node only). Tests running in
 * workerd reach it over HTTP through `test/support/origin.ts`.
 *
 * Control API (paths under `/__`):
 * - `POST /__script` `{ "path": "/t/<id>/x", "responses": [ResponseSpec, ...] }`: requests to
 *   that path get the responses in order, the last one repeating. Scripts are keyed by
 *   pathname only (a query in `path` is ignored), so `/x?a=1` and `/x?a=2` share one script
 *   and one request counter. Registering again restarts the sequence, not the counter.
 * - `GET /__requests?path=/t/<id>/x` → `{ count, requests: [RecordedRequest, ...] }`.
 * - `POST /__decode?coding=zstd|br|gzip`: the body decoded by Node's own zlib (native libzstd,
 *   all frames), an independent check of what Brim encodes.
 * - `POST /__reset`: forgets every script, counter and recorded request. Shared by every test
 *   file, so tests use unique paths instead.
 *
 * Every other path is served from its script, or, unscripted, as 200 `text/plain`
 * `origin:<pathname>#<count>` with no cache headers. Every such response carries
 * `x-origin-count: <count>` (1-based, per pathname).
 *
 * WebSocket: a GET with `Upgrade: websocket` to any path is recorded like any request, then
 * upgraded (RFC 6455, by the `ws` package) to an echo: each message comes back prefixed
 * `echo:`, text as text and binary as binary. A path ending in `/refuse` answers the
 * handshake `403` instead.
 *
 * Normalising mode: below `/norm/` the origin reads paths the way nginx, Tomcat and Spring do
 * before routing (`normalisingRead`: `%XX` decoded, `%2F` included, `\` as "/", `;params`
 * dropped, `//` merged, dot segments resolved). Scripts, counters and request logs are keyed
 * by that reading, so `/norm/a/..%2fb` is served `/norm/b`'s script; `{path}` in a body
 * reflects the path exactly as received.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { posix } from "node:path";
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { createRequire } from "node:module";
import type { WebSocketServer as WebSocketServerType } from "ws";

// Loaded through Node's own resolver: Vite resolves "ws" to its browser stub in global setup.
const { WebSocketServer } = createRequire(import.meta.url)("ws") as { WebSocketServer: typeof WebSocketServerType };

export interface ResponseSpec {
  /** Default 200. */
  status?: number;
  /** Values may use the templates below; an array sends the header once per value. */
  headers?: Record<string, string | string[]>;
  /** Templates: `{count}`, `{method}`, `{query}` (search without "?"), `{header:NAME}`, `{path}` (as received). */
  body?: string;
  /** A generated body of this many bytes (see `generatedBody`), written in 64 KiB chunks. */
  bodyBytes?: number;
  /** A generated revocation feed, streamed (see `FeedSpec`); `body` and `bodyBytes` are ignored. */
  feed?: FeedSpec;
  /** Wait before sending the response headers. */
  delayMs?: number;
  /** Wait before each body chunk (headers are flushed first). */
  chunkDelayMs?: number;
  /** Destroy the socket without answering. */
  reset?: true;
  /** Never answer (the request ends when the server closes). */
  hang?: true;
  /**
   * Hold the response headers until the test opens this gate (`POST /__release?gate=NAME`):
   * lets a test prove that an answer did not wait for the origin, without measuring time.
   */
  gate?: string;
  /** Send `body` gzip-encoded, with `content-encoding: gzip` (an origin that compresses itself). */
  gzip?: true;
  /** Send `body` zstd-encoded, with `content-encoding: zstd` (workerd does not decode zstd). */
  zstd?: true;
  /**
   * Write this exact byte sequence to the socket instead of a well-formed response (framing
   * faults: early close, bad chunk sizes, missing terminators, lies in headers). See `RawSpec`.
   */
  raw?: RawSpec;
}

/**
 * A response written byte for byte on the socket: `head` (status line and headers, CRLFs
 * included, `{count}` templated), then each of `parts` in order (strings, or `{ bytes: N }` for
 * N generated body bytes, or `{ gzipBomb: N }` / `{ brBomb: N }` for a compressed body that
 * decodes to N zero bytes), each part optionally after a gate; then `end`: `fin` closes the
 * connection cleanly (a complete response should say `connection: close`, or the client may
 * reuse the connection before it sees the FIN), `reset` destroys it
 * (RST), `stall` keeps it open without writing (until the server closes, or until `stallGate`
 * opens, then `reset`). The connection is never reused after a raw response.
 */
export interface RawSpec {
  head: string;
  parts?: (string | { bytes: number } | { gzipBomb: number } | { brBomb: number } | { gate: string })[];
  end: "fin" | "reset" | "stall";
  stallGate?: string;
}

/**
 * A revocation feed generated as it is written, in 64 KiB chunks (chunked encoding, no
 * content-length): `{"iss":…,"jti":["<id 0>",…,"<id n-1>"]}`, ids from `feedId` (mirrored in
 * `jwt.ts`). Lets a test serve 10^6 or 10^7 entries without building or uploading the document.
 * `count` adds a `"count"` member first (true or not). `cutAfter` stops after that many ids:
 * `fin` ends the chunked body cleanly (the JSON unfinished), `reset` destroys the connection.
 */
export interface FeedSpec {
  iss: string;
  jti: number;
  /** Ids are `prefix` + the index in base 36, zero-padded to `idChars` characters in all (default 36, a UUID's length). */
  prefix?: string;
  idChars?: number;
  count?: number;
  cutAfter?: { entries: number; how: "fin" | "reset" };
}

/** The i-th id of a generated feed. */
export function feedId(i: number, prefix = "", idChars = 36): string {
  return prefix + i.toString(36).padStart(Math.max(0, idChars - prefix.length), "0");
}

export interface RecordedRequest {
  method: string;
  /** Path and query exactly as received. */
  url: string;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  bodyLength: number;
}

export interface RequestLog {
  count: number;
  requests: RecordedRequest[];
}

export interface OriginServer {
  port: number;
  close(): Promise<void>;
}

const CHUNK_BYTES = 64 * 1024;
/** Byte i of a generated body is `BODY_ALPHABET[i % 62]`; `origin.ts` mirrors this. */
const BODY_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const BODY_PATTERN = Buffer.from(BODY_ALPHABET.repeat(Math.ceil(CHUNK_BYTES / BODY_ALPHABET.length) + 2));
const TEMPLATE = /\{(count|method|query|path|header:[^}]+)\}/g;
const NORMALISING_PREFIX = "/norm/";
const ESCAPE = /%([0-9A-Fa-f]{2})/g;

interface PathState {
  count: number;
  requests: RecordedRequest[];
  script: ResponseSpec[] | null;
  /** Requests answered from the current script. */
  used: number;
}

/** Starts the origin on a random port of 127.0.0.1. */
export async function startOriginServer(): Promise<OriginServer> {
  let paths = new Map<string, PathState>();
  const stateOf = (path: string): PathState => {
    let state = paths.get(path);
    if (!state) paths.set(path, (state = { count: 0, requests: [], script: null, used: 0 }));
    return state;
  };

  const server = createServer(async function origin(req, res) {
    // A client that gives up mid-response is normal here (timeouts, resets); not an error.
    res.on("error", () => {});
    try {
      const body = await readBody(req);
      const url = req.url ?? "/";
      const pathname = pathOf(url);
      if (pathname === "/__script" && req.method === "POST") return control(res, registerScript(body));
      if (pathname === "/__requests" && req.method === "GET") return control(res, requestLog(url));
      if (pathname === "/__release" && req.method === "POST") {
        const name = new URL(url, "http://origin").searchParams.get("gate") ?? "";
        openGates.add(name);
        for (const wake of gateWaiters.get(name) ?? []) wake();
        gateWaiters.delete(name);
        return control(res, { ok: true });
      }
      if (pathname === "/__decode" && req.method === "POST") {
        const coding = new URL(url, "http://origin").searchParams.get("coding");
        const decoded =
          coding === "zstd"
            ? zstdDecompressSync(body)
            : coding === "br"
              ? brotliDecompressSync(body)
              : coding === "gzip"
                ? gunzipSync(body)
                : null;
        if (!decoded) return control(res, { error: `unknown coding ${coding}` }, 400);
        return void res.writeHead(200, { "content-type": "application/octet-stream" }).end(decoded);
      }
      if (pathname === "/__reset" && req.method === "POST") {
        paths = new Map();
        return control(res, { ok: true });
      }
      if (pathname.startsWith("/__")) return control(res, { error: `unknown control path ${pathname}` }, 404);

      const state = stateOf(stateKey(pathname));
      state.count++;
      state.requests.push({ method: req.method ?? "GET", url, headers: flatHeaders(req), bodyLength: body.length });
      const spec = state.script ? (state.script[Math.min(state.used++, state.script.length - 1)] ?? {}) : null;
      await respond(req, res, spec ?? unscripted(pathname), state.count);
    } catch (error) {
      if (!res.headersSent) control(res, { error: String(error) }, 400);
      else res.destroy();
    }
  });

  const sockets = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    socket.on("error", () => {});
    const url = req.url ?? "/";
    const pathname = pathOf(url);
    const state = stateOf(stateKey(pathname));
    state.count++;
    state.requests.push({ method: req.method ?? "GET", url, headers: flatHeaders(req), bodyLength: 0 });
    if (pathname.endsWith("/refuse")) {
      socket.end("HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 7\r\nconnection: close\r\n\r\nrefused");
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      ws.on("message", (data, isBinary) => {
        const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
        ws.send(isBinary ? Buffer.concat([Buffer.from("echo:"), bytes]) : `echo:${bytes.toString("utf8")}`, { binary: isBinary });
      });
    });
  });

  function registerScript(body: Buffer): unknown {
    const input = JSON.parse(body.toString("utf8")) as { path?: unknown; responses?: unknown };
    if (typeof input.path !== "string" || !input.path.startsWith("/")) throw new Error("path must start with /");
    if (!Array.isArray(input.responses) || input.responses.length === 0) {
      throw new Error("responses must be a non-empty list");
    }
    const state = stateOf(stateKey(pathOf(input.path)));
    state.script = input.responses as ResponseSpec[];
    state.used = 0;
    return { ok: true };
  }

  function requestLog(url: string): RequestLog {
    const path = new URL(url, "http://origin").searchParams.get("path");
    if (path === null) throw new Error("missing ?path=");
    const state = paths.get(stateKey(pathOf(path)));
    return { count: state?.count ?? 0, requests: state?.requests ?? [] };
  }

  // Never close an idle keep-alive connection from this side: Node's default (5 s) races with
  // workerd sending its next request on that connection, which then fails as "origin
  // unreachable" for no reason a test chose. Connections end when workerd drops them or at close().
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function unscripted(pathname: string): ResponseSpec {
  return { headers: { "content-type": "text/plain" }, body: `origin:${pathname}#{count}` };
}

/** Gates opened by `/__release`; requests waiting on a gate that is still closed. */
const openGates = new Set<string>();
const gateWaiters = new Map<string, (() => void)[]>();

function passGate(name: string): Promise<void> {
  if (openGates.has(name)) return Promise.resolve();
  return new Promise((resolve) => gateWaiters.set(name, [...(gateWaiters.get(name) ?? []), resolve]));
}

async function respond(req: IncomingMessage, res: ServerResponse, spec: ResponseSpec, count: number): Promise<void> {
  if (spec.gate) await passGate(spec.gate);
  if (spec.delayMs) await sleep(spec.delayMs);
  if (spec.reset) return void req.socket.destroy();
  if (spec.hang || res.destroyed) return;
  if (spec.raw) return writeRaw(req, spec.raw, count);
  if (spec.feed) return writeFeed(req, res, spec, count);

  const fill = (text: string) => applyTemplate(text, req, count);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    headers[name.toLowerCase()] = Array.isArray(value) ? value.map(fill) : fill(value);
  }
  headers["x-origin-count"] = String(count);
  const status = spec.status ?? 200;
  if (status >= 200 && status < 300 && notModified(req, headers)) {
    res.writeHead(304, headers).end();
    return;
  }

  let body = spec.bodyBytes !== undefined ? null : Buffer.from(fill(spec.body ?? ""));
  if (body && spec.gzip) {
    body = gzipSync(body);
    headers["content-encoding"] = "gzip";
  }
  if (body && spec.zstd) {
    body = zstdCompressSync(body);
    // Both: gzip applied first, then zstd (RFC 9110 §8.4: listed in the order applied).
    headers["content-encoding"] = spec.gzip ? "gzip, zstd" : "zstd";
  }
  const length = body ? body.length : (spec.bodyBytes ?? 0);
  if (!("content-length" in headers) && !("transfer-encoding" in headers)) headers["content-length"] = String(length);
  res.writeHead(status, headers);
  if (body && !spec.chunkDelayMs) return void res.end(body);
  res.flushHeaders();
  for (let offset = 0; offset < length && !res.destroyed; offset += CHUNK_BYTES) {
    if (spec.chunkDelayMs) await sleep(spec.chunkDelayMs);
    const size = Math.min(CHUNK_BYTES, length - offset);
    const chunk = body ? body.subarray(offset, offset + size) : generatedChunk(offset, size);
    if (!res.write(chunk)) await drained(res);
  }
  res.end();
}

/**
 * RFC 9110 §13.1.2: If-None-Match (weak comparison, "*" or a list) decides when present;
 * only without it is If-Modified-Since compared against Last-Modified (§13.1.3). Only GET
 * and HEAD are answered with 304 (§13.1.2, §13.1.3).
 */
function notModified(req: IncomingMessage, headers: Record<string, string | string[]>): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const etag = single(headers.etag);
  const ifNoneMatch = req.headers["if-none-match"];
  if (ifNoneMatch !== undefined) {
    if (etag === undefined) return false;
    if (ifNoneMatch.trim() === "*") return true;
    return ifNoneMatch.split(",").some((tag) => opaque(tag) === opaque(etag));
  }
  const lastModified = Date.parse(single(headers["last-modified"]) ?? "");
  const since = Date.parse(req.headers["if-modified-since"] ?? "");
  return !Number.isNaN(lastModified) && !Number.isNaN(since) && since >= lastModified;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The entity-tag without its weakness indicator, for weak comparison. */
function opaque(tag: string): string {
  const trimmed = tag.trim();
  return trimmed.startsWith("W/") ? trimmed.slice(2) : trimmed;
}

function applyTemplate(text: string, req: IncomingMessage, count: number): string {
  return text.replace(TEMPLATE, (_, name: string) => {
    if (name === "count") return String(count);
    if (name === "method") return req.method ?? "";
    if (name === "path") return pathOf(req.url ?? "");
    if (name === "query") {
      const url = req.url ?? "";
      return url.includes("?") ? url.slice(url.indexOf("?") + 1) : "";
    }
    const value = req.headers[name.slice("header:".length).toLowerCase()];
    return Array.isArray(value) ? value.join(", ") : (value ?? "");
  });
}

/** Writes a `RawSpec` straight to the socket, bypassing Node's HTTP framing. */
async function writeRaw(req: IncomingMessage, spec: RawSpec, count: number): Promise<void> {
  const socket = req.socket;
  const write = (data: Buffer | string) =>
    new Promise<void>((resolve) => (socket.write(data) ? resolve() : socket.once("drain", () => resolve())));
  await write(spec.head.replaceAll("{count}", String(count)));
  for (const part of spec.parts ?? []) {
    if (socket.destroyed) return;
    if (typeof part === "string") await write(part);
    else if ("bytes" in part)
      for (let offset = 0; offset < part.bytes; offset += CHUNK_BYTES)
        await write(generatedChunk(offset, Math.min(CHUNK_BYTES, part.bytes - offset)));
    else if ("gzipBomb" in part) await write(bomb("gzip", part.gzipBomb));
    else if ("brBomb" in part) await write(bomb("br", part.brBomb));
    else await passGate(part.gate);
  }
  switch (spec.end) {
    case "fin":
      return void socket.end();
    case "reset":
      return void socket.resetAndDestroy();
    case "stall":
      if (spec.stallGate) {
        await passGate(spec.stallGate);
        socket.resetAndDestroy();
      }
  }
}

async function writeFeed(req: IncomingMessage, res: ServerResponse, spec: ResponseSpec, count: number): Promise<void> {
  const feed = spec.feed as FeedSpec;
  const headers: Record<string, string | string[]> = { "content-type": "application/json", "x-origin-count": String(count) };
  for (const [name, value] of Object.entries(spec.headers ?? {})) headers[name.toLowerCase()] = value;
  if (notModified(req, headers)) return void res.writeHead(304, headers).end();
  res.writeHead(200, headers);
  const head = `{"iss":${JSON.stringify(feed.iss)},${feed.count === undefined ? "" : `"count":${feed.count},`}"jti":[`;
  const stop = Math.min(feed.jti, feed.cutAfter?.entries ?? Number.POSITIVE_INFINITY);
  let text = head;
  for (let i = 0; i < stop && !res.destroyed; i++) {
    text += `${i === 0 ? "" : ","}"${feedId(i, feed.prefix, feed.idChars)}"`;
    if (text.length >= CHUNK_BYTES) {
      if (!res.write(text)) await drained(res);
      text = "";
    }
  }
  if (res.destroyed) return;
  if (feed.cutAfter && feed.cutAfter.entries < feed.jti) {
    if (text) res.write(text);
    if (feed.cutAfter.how === "reset") return void req.socket.resetAndDestroy();
    return void res.end();
  }
  res.end(`${text}]}`);
}

const bombs = new Map<string, Buffer>();

/** A compressed body of `decodedBytes` zero bytes (memoized: building one costs CPU). */
export function bomb(coding: "gzip" | "br", decodedBytes: number): Buffer {
  const key = `${coding}:${decodedBytes}`;
  let out = bombs.get(key);
  if (!out) {
    const zeros = Buffer.alloc(decodedBytes);
    out = coding === "gzip" ? gzipSync(zeros, { level: 9 }) : brotliCompressSync(zeros);
    bombs.set(key, out);
  }
  return out;
}

function generatedChunk(offset: number, size: number): Buffer {
  const start = offset % BODY_ALPHABET.length;
  return BODY_PATTERN.subarray(start, start + size);
}

function control(res: ServerResponse, value: unknown, status = 200): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
}

/** The pathname scripts and counters are keyed by: as received, or read in normalising mode. */
function stateKey(pathname: string): string {
  if (!pathname.startsWith(NORMALISING_PREFIX)) return pathname;
  return `${NORMALISING_PREFIX.slice(0, -1)}${normalisingRead(pathname.slice(NORMALISING_PREFIX.length - 1))}`;
}

/**
 * A path as an origin that normalises before routing reads it: ASCII escapes decoded once
 * (nginx decodes `%2F` too), `\` as "/" (Windows stacks), `;params` dropped (Tomcat, Spring),
 * then `//` merged and dot segments resolved (nginx `merge_slashes`, RFC 3986 §5.2.4).
 */
export function normalisingRead(path: string): string {
  const decoded = path.replace(ESCAPE, (escape, hex: string) => {
    const code = Number.parseInt(hex, 16);
    return code < 0x80 ? String.fromCharCode(code) : escape;
  });
  return posix.normalize(decoded.replace(/\\/g, "/").replace(/;[^/]*/g, ""));
}

function pathOf(url: string): string {
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Resolves when `res` can take more data, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done).off("close", done);
      resolve();
    };
    res.on("drain", done).on("close", done);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
