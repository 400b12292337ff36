/**
 * Stats: a known sequence of requests through one Brim (real Cache API, Coalescer, StatsLog),
 * then `GET /__brim/stats` must report exactly those numbers. Also: counting survives a second
 * isolate (both flush into the tenant's one object), and the endpoint needs the admin token.
 */
import { describe, expect, it } from "vitest";
import type { RouteReport } from "../../src/stats/counters";
import { testBrim, type TestBrim } from "../support/brim";
import { classify } from "../../src/stats/middleware";
import type { RequestOutcome } from "../../src/env";
import type { CacheStatus } from "../../src/http/cache-status";
import { release, script, uniqueGate, uniquePath, untilCount } from "../support/origin";
import { ADMIN_TOKEN, ADMIN_TOKEN_ENV, authBlock, goodClaims, sign, signingKey } from "../support/jwt";

interface StatsBody {
  tenant: string;
  routes: Record<string, RouteReport>;
  total: RouteReport;
}

function tenantId(): string {
  return `s-${crypto.randomUUID().slice(0, 12)}`;
}

async function setup(id = tenantId()) {
  const key = await signingKey("ES256");
  const tenant = {
    id,
    auth: authBlock({ keys: [key.jwk!] }),
    admin: { tokenEnv: ADMIN_TOKEN_ENV },
    routes: [
      { path: "/open/*", cache: {} },
      { path: "/slow/*", timeoutMs: 5000, cache: {} },
      { path: "/secure/*", auth: "required", cache: false },
      { path: "/pass/*", cache: false },
    ],
  };
  const isolate = (): TestBrim => testBrim([tenant], { stats: true });
  return { key, isolate, host: `${id}.test` };
}

async function stats(brim: TestBrim, token = ADMIN_TOKEN): Promise<Response> {
  return brim.fetch("/__brim/stats", { headers: { authorization: `Bearer ${token}` } });
}

describe("GET /__brim/stats", () => {
  it("matches a known sequence of requests, per route and in total", async () => {
    const { key, isolate } = await setup();
    const brim = isolate();
    const base = uniquePath("");
    await script(`/open${base}/a`, [{ headers: { "cache-control": "max-age=600" }, body: "a" }]);
    await script(`/open${base}/s`, [{ headers: { "cache-control": "max-age=1, stale-while-revalidate=600" }, body: "s" }]);

    // /open/*: miss, hit, hit; miss, then (2 s later) a stale hit.
    for (const status of [/fwd=uri-miss/, /^Brim; hit/, /^Brim; hit/])
      expect((await brim.fetch(`/open${base}/a`)).headers.get("cache-status")).toMatch(status);
    expect((await brim.fetch(`/open${base}/s`)).headers.get("cache-status")).toMatch(/fwd=uri-miss/);
    brim.clock.advance(2);
    expect((await brim.fetch(`/open${base}/s`)).headers.get("cache-status")).toMatch(/detail=stale-while-revalidate/);

    // /slow/*: two concurrent misses share one origin fetch.
    const slow = `/slow${base}`;
    const gate = uniqueGate();
    await script(slow, [{ headers: { "cache-control": "max-age=600" }, body: "slow", gate }]);
    const pending = Promise.all([brim.fetch(slow, { background: false }), brim.fetch(slow, { background: false })]);
    await untilCount(slow, 1);
    await release(gate);
    const statuses = await Promise.all((await pending).map(async (res) => (await res.text(), res.headers.get("cache-status") ?? "")));
    expect(statuses.filter((s) => s.includes("collapsed"))).toHaveLength(1);

    // /secure/*: no token, then a badly signed one.
    expect((await brim.fetch(`/secure${base}`)).status).toBe(401);
    const other = await signingKey("ES256", key.kid);
    expect((await brim.fetch(`/secure${base}`, { token: await sign(other, goodClaims(brim.clock.now())) })).status).toBe(401);

    // /pass/*: proxied, never cached.
    expect((await brim.fetch(`/pass${base}`)).headers.get("cache-status")).toBe("Brim; fwd=bypass");

    const res = await stats(brim);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = await res.json<StatsBody>();
    expect(body.routes["/open/*"]).toMatchObject({
      requests: 5,
      hits: 3,
      hitRatio: 0.6,
      staleServed: 1,
      collapsed: 0,
      originFetches: 2,
      authRejections: {},
    });
    expect(body.routes["/slow/*"]).toMatchObject({ requests: 2, hits: 0, collapsed: 1, originFetches: 1 });
    expect(body.routes["/secure/*"]).toMatchObject({
      requests: 2,
      hits: 0,
      originFetches: 0,
      authRejections: { "missing-token": 1, "bad-signature": 1 },
    });
    expect(body.routes["/pass/*"]).toMatchObject({ requests: 1, hits: 0, originFetches: 1 });
    expect(body.total).toMatchObject({ requests: 10, hits: 3, hitRatio: 0.3, staleServed: 1, collapsed: 1, originFetches: 4 });
    // Four origin-forwarded requests, each in one latency bucket; p50/p99 are bucket bounds.
    expect(body.total.originLatencyMs.counts.reduce((a, b) => a + b, 0)).toBe(4);
    expect(typeof body.total.originLatencyMs.p50).toBe("number");
    expect(typeof body.total.originLatencyMs.p99).toBe("number");
  });

  it("adds up the counts of every isolate; admin requests are not counted", async () => {
    const { isolate } = await setup();
    const [one, two] = [isolate(), isolate()];
    const path = `/pass${uniquePath("")}`;
    for (let i = 0; i < 3; i++) await one.fetch(path);
    for (let i = 0; i < 2; i++) await two.fetch(path);
    // Isolate two flushes on its own schedule (here: its interval passes, waitUntil runs).
    two.clock.advance(10);
    await two.fetch(path);
    const body = await (await stats(one)).json<StatsBody>();
    expect(body.total.requests).toBe(6);
    expect((await (await stats(one)).json<StatsBody>()).total.requests).toBe(6);
  });

  it("needs the admin token: 401 and nothing revealed", async () => {
    const { isolate } = await setup();
    const brim = isolate();
    const res = await stats(brim, "wrong");
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain("requests");
  });
});

describe("classify (from the typed outcome, never the header)", () => {
  const outcome = (cache: CacheStatus | null, originMs: number | null = 7): RequestOutcome => ({ cache, originMs, authFailure: null });
  it.each([
    ["hit", outcome({ hit: true, ttl: 30 }), { hit: true, stale: false, collapsed: false, originMs: null }],
    [
      "stale-while-revalidate hit",
      outcome({ hit: true, ttl: -3, detail: "stale-while-revalidate" }),
      { hit: true, stale: true, collapsed: false, originMs: null },
    ],
    [
      "stored miss",
      outcome({ fwd: "uri-miss", fwdStatus: 200, stored: true }),
      { hit: false, stale: false, collapsed: false, originMs: 7 },
    ],
    [
      "collapsed miss",
      outcome({ fwd: "uri-miss", fwdStatus: 200, collapsed: true }),
      { hit: false, stale: false, collapsed: true, originMs: null },
    ],
    [
      "stale-if-error",
      outcome({ fwd: "stale", ttl: -5, detail: "stale-if-error" }),
      { hit: false, stale: true, collapsed: false, originMs: 7 },
    ],
    ["bypass", outcome({ fwd: "bypass" }), { hit: false, stale: false, collapsed: false, originMs: 7 }],
    ["no cache outcome (a 401 before the cache)", outcome(null, null), { hit: false, stale: false, collapsed: false, originMs: null }],
  ] as const)("%s", (_, given, expected) => {
    expect(classify(given)).toEqual(expected);
  });
});

describe("bytes saved by compression", () => {
  it("counts identity − sent bytes on the compressing miss and on each compressed hit", async () => {
    const id = tenantId();
    const brim = testBrim([{ id, admin: { tokenEnv: ADMIN_TOKEN_ENV }, routes: [{ path: "/*", cache: {} }] }], { stats: true });
    const path = uniquePath();
    const body = JSON.stringify({ items: Array.from({ length: 400 }, (_, i) => ({ id: i, title: `Item ${i}` })) });
    await script(path, [{ headers: { "cache-control": "max-age=600", "content-type": "application/json" }, body }]);
    const sent: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await brim.fetch(path, { headers: { "accept-encoding": "gzip" } });
      expect(res.headers.get("content-encoding")).toBe("gzip");
      sent.push((await res.arrayBuffer()).byteLength);
    }
    // Uncompressed clients save nothing.
    await brim.fetch(path);
    const identity = new TextEncoder().encode(body).byteLength;
    const expected = sent.reduce((saved, n) => saved + identity - n, 0);
    const report = await (await stats(brim)).json<StatsBody>();
    expect(report.total.compressionBytesSaved).toBe(expected);
    expect(expected).toBeGreaterThan(2 * identity);
  });
});
