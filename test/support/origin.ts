/**
 * Test-side client of the scriptable origin (`origin-server.ts`), for tests running inside
 * workerd: fetch only, no Node APIs. Give every test its own `uniquePath()`; the origin is
 * shared by every test file, so scripts and counters must not collide.
 */
import { inject } from "vitest";
import type { RecordedRequest, RequestLog, ResponseSpec } from "./origin-server";

export type { RecordedRequest, RequestLog, ResponseSpec };

/** `http://127.0.0.1:<port>`, no trailing slash. */
export function originUrl(): string {
  return `http://127.0.0.1:${inject("originPort")}`;
}

/** `<prefix>/<uuid>`: a path no other test uses. */
export function uniquePath(prefix = "/t"): string {
  return `${prefix}/${crypto.randomUUID()}`;
}

/** Requests to `path` (pathname; any query) get `responses` in order, the last repeating. */
export async function script(path: string, responses: ResponseSpec[]): Promise<void> {
  await control("/__script", { method: "POST", body: JSON.stringify({ path, responses }) });
}

/** What reached the origin for `path` (all queries), oldest first. */
export async function requests(path: string): Promise<RequestLog> {
  const res = await control(`/__requests?path=${encodeURIComponent(path)}`);
  return res.json<RequestLog>();
}

/**
 * `bytes` decoded by the origin's Node zlib (native libzstd, every frame): a decoder
 * independent of Brim's encoders and of workerd's zstd decoder, which stops after one frame.
 */
export async function nodeDecode(coding: "zstd" | "br" | "gzip", bytes: Uint8Array): Promise<Uint8Array> {
  const res = await control(`/__decode?coding=${coding}`, { method: "POST", body: bytes });
  return new Uint8Array(await res.arrayBuffer());
}

/** How many requests for `path` reached the origin. */
export async function count(path: string): Promise<number> {
  return (await requests(path)).count;
}

/** The body the origin generates for `bodyBytes: n`: byte i is ALPHABET[i % 62]. */
export function generatedBody(n: number): string {
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  return alphabet.repeat(Math.ceil(n / alphabet.length)).slice(0, n);
}

async function control(path: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(`${originUrl()}${path}`, init);
  if (!res.ok) throw new Error(`origin ${path}: ${res.status} ${await res.text()}`);
  return res;
}

/** A gate name no other test uses (see `ResponseSpec.gate`). */
export function uniqueGate(): string {
  return crypto.randomUUID();
}

/** Opens a gate: every response held on it (now or later) is sent. */
export async function release(gate: string): Promise<void> {
  await control(`/__release?gate=${encodeURIComponent(gate)}`, { method: "POST" });
}

/** Waits until `path` has seen `n` requests (bounded: gives up after `tries` checks). */
export async function untilCount(path: string, n: number, tries = 80): Promise<number> {
  let seen = 0;
  for (let i = 0; i < tries; i++) {
    seen = await count(path);
    if (seen >= n) return seen;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return seen;
}
