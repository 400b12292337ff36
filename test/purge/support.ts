/**
 * Purge helpers over `testBrim(tenants, { purge: true })` (test/support/brim.ts): its tenants
 * have an admin token and the real `PurgeLog` namespace. Several such brims stand for several
 * isolates: they share the Durable Objects and the Cache API, not their in-memory purge marks.
 */
import { expect } from "vitest";
import type { TestBrim } from "../support/brim";
import { ADMIN_TOKEN } from "../support/jwt";

export { ADMIN_TOKEN };

/** A fresh tenant id per test: each has its own PurgeLog, so tests never see each other's purges. */
export function uniqueTenant(prefix = "p"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 12)}`;
}

export function purge(brim: TestBrim, host: string, body: unknown, token: string | null = ADMIN_TOKEN): Promise<Response> {
  return brim.fetch("/__brim/purge", {
    host,
    method: "POST",
    headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export async function cacheStatus(brim: TestBrim, path: string, host: string): Promise<{ status: string; body: string }> {
  const res = await brim.fetch(path, { host });
  return { status: res.headers.get("cache-status") ?? "", body: await res.text() };
}

export async function expectHit(brim: TestBrim, path: string, host: string, body?: string): Promise<void> {
  const res = await cacheStatus(brim, path, host);
  expect(res.status, `${host}${path} should be a hit`).toMatch(/^Brim; hit; ttl=\d+$/);
  if (body !== undefined) expect(res.body).toBe(body);
}

export async function expectPurgedMiss(brim: TestBrim, path: string, host: string): Promise<string> {
  const res = await cacheStatus(brim, path, host);
  expect(res.status, `${host}${path} should be purged`).toMatch(/^Brim; fwd=miss; fwd-status=200; stored; detail=purged$/);
  return res.body;
}
