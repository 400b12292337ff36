/**
 * A Brim whose tenants (`<id>.test`, origin = the test origin) have an admin token and the real
 * `PurgeLog` / `Coalescer` namespaces. Several `purgeBrim`s stand for several isolates: they
 * share the Durable Objects and the Cache API, not their in-memory purge marks.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { createBrim, type BrimOptions } from "../../src/app";
import { loadConfig } from "../../src/tenant/load";
import { TestClock, type RawRoute, type TestBrim } from "../support/brim";
import { ADMIN_TOKEN, ADMIN_TOKEN_ENV } from "../support/jwt";
import { originUrl } from "../support/origin";

export { ADMIN_TOKEN };

/** A fresh tenant id per test: each has its own PurgeLog, so tests never see each other's purges. */
export function uniqueTenant(prefix = "p"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 12)}`;
}

/** As `testBrim` (test/support/brim.ts), with `admin` blocks and the PurgeLog namespace; `clock` may be shared. */
export function purgeBrim(tenants: Record<string, RawRoute[]>, options: Partial<BrimOptions> & { clock?: TestClock; tokenEnvs?: Record<string, string> } = {}): TestBrim {
  const { clock = new TestClock(), tokenEnvs = {}, ...rest } = options;
  const config = loadConfig({
    tenants: Object.entries(tenants).map(([id, routes]) => ({ id, hosts: [`${id}.test`], origin: originUrl(), routes, admin: { tokenEnv: tokenEnvs[id] ?? ADMIN_TOKEN_ENV } })),
  });
  const logs: Record<string, unknown>[] = [];
  const app = createBrim({ config, now: clock.now, log: (e) => logs.push(e), coalescer: env.COALESCER, purgeLog: env.PURGE_LOG, ...rest });
  const defaultHost = `${Object.keys(tenants)[0]}.test`;
  return {
    app,
    clock,
    logs,
    async fetch(path, init = {}) {
      const { host = defaultHost, background: _background, ...restInit } = init;
      const headers = new Headers(restInit.headers);
      headers.set("host", host);
      const ctx = createExecutionContext();
      const response = await app.fetch(new Request(`http://${host}${path}`, { ...restInit, headers }), env, ctx);
      const body = await response.arrayBuffer();
      await waitOnExecutionContext(ctx);
      return new Response(response.status === 304 || response.status === 204 || init.method === "HEAD" ? null : body, response);
    },
    async settled() {},
  };
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
