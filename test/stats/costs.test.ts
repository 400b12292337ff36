/**
 * Cost accounting (src/meter.ts → src/stats/): per-route platform costs in `/__brim/stats`, the
 * "Durable Object calls per 1,000 requests" figure, Analytics Engine data points (through the
 * real local `STATS_AE` binding, wrapped to see what is written), and the steady state of hot
 * hits: no Durable Object call at all. Counts only, never timing.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PURGE_RELAY_POLL_MS, PURGE_RELAY_REFRESH_MS, STATS_FLUSH_INTERVAL_MS } from "../../src/constants";
import { addCounters, emptyCounters, report, type RouteCounters, type RouteReport } from "../../src/stats/counters";
import type { AnalyticsWriter } from "../../src/stats/analytics";
import { TestClock, testBrim, type TestBrim } from "../support/brim";
import { script, uniquePath } from "../support/origin";
import { ADMIN_TOKEN } from "../support/jwt";

interface StatsBody {
  routes: Record<string, RouteReport>;
  total: RouteReport;
}

// Coalescing off: the origin is reached directly, so the object calls counted are the relay's and the stats'.
const ROUTES = [
  { path: "/a/*", cache: { coalesce: false } },
  { path: "/p/*", cache: false },
];

function tenantId(): string {
  return `c-${crypto.randomUUID().slice(0, 12)}`;
}

/** The real local dataset, wrapped to keep what was written. */
function recordingAnalytics(): { writer: AnalyticsWriter; points: AnalyticsEngineDataPoint[] } {
  const points: AnalyticsEngineDataPoint[] = [];
  return {
    points,
    writer: {
      writeDataPoint(point) {
        points.push(point);
        env.STATS_AE.writeDataPoint(point);
      },
    },
  };
}

async function stats(brim: TestBrim, host: string): Promise<StatsBody> {
  const res = await brim.fetch("/__brim/stats", { host, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  return res.json();
}

describe("costs in /__brim/stats", () => {
  it("a known mix: object calls by kind per route, cache writes of the relay, calls per 1,000 requests", async () => {
    const id = tenantId();
    const host = `${id}.test`;
    const { writer, points } = recordingAnalytics();
    const brim = testBrim({ [id]: ROUTES }, { purge: true, stats: true, analytics: writer });
    const base = uniquePath("");
    await script(`/a${base}`, [{ headers: { "cache-control": "max-age=600" }, body: "a" }]);
    await script(`/p${base}`, [{ headers: { "cache-control": "max-age=600" }, body: "p" }]);
    for (const path of [`/a${base}`, `/a${base}`, `/a${base}`, `/p${base}`]) expect((await brim.fetch(path, { host })).status).toBe(200);

    const body = await stats(brim, host);
    const a = body.routes["/a/*"]!.costs;
    // The cold isolate's purge marks: one relay look (empty), one PurgeLog read, relay body and head written.
    expect(a.objectCalls).toEqual({ coalescer: 0, purge: 1, revocation: 0, stats: 0, config: 0 });
    expect(a.cacheReads).toBeGreaterThanOrEqual(1);
    expect(a.cacheWrites).toBeGreaterThanOrEqual(2);
    expect(a.originFetches).toBe(1);
    expect(body.routes["/p/*"]!.costs.objectCallsTotal).toBe(0);
    expect(body.total.requests).toBe(4);
    expect(body.total.costs.objectCallsTotal).toBe(1);
    expect(body.total.costs.objectCallsPer1000Requests).toBe(250);
    expect(a.objectCallsPer1000Requests).toBeCloseTo(1000 / 3, 2);

    // One Analytics Engine point per request, with the same costs.
    expect(points).toHaveLength(4);
    expect(points.map((p) => p.blobs?.[2])).toEqual(["origin", "hit", "hit", "origin"]);
    expect(points.every((p) => p.indexes?.[0] === id && p.doubles?.[0] === 1)).toBe(true);
    expect(points.map((p) => p.doubles?.[6])).toEqual([1, 0, 0, 0]); // purge calls
  });

  it("a flush to the StatsLog counts for the request that triggered it (without Analytics Engine)", async () => {
    const id = tenantId();
    const host = `${id}.test`;
    const brim = testBrim({ [id]: ROUTES }, { purge: true, stats: true });
    const path = `/a${uniquePath("")}`;
    await script(path, [{ headers: { "cache-control": "max-age=600" }, body: "a" }]);
    await brim.fetch(path, { host });
    brim.clock.advance(STATS_FLUSH_INTERVAL_MS / 1000);
    // Due: this request closes the batch and flushes it (one `stats` call, counted for it).
    await brim.fetch(path, { host });
    const body = await stats(brim, host);
    expect(body.routes["/a/*"]!.requests).toBe(2);
    expect(body.routes["/a/*"]!.costs.objectCalls.stats).toBe(1);
  });
});

describe("steady state: hot hits make no Durable Object call", () => {
  it("1,000 hot hits over four isolates of a data center: 0 object calls of any kind", { timeout: 120_000 }, async () => {
    const id = tenantId();
    const host = `${id}.test`;
    const clock = new TestClock();
    const { writer, points } = recordingAnalytics();
    const dc = `dc-${crypto.randomUUID()}`;
    const isolates = Array.from({ length: 4 }, () =>
      testBrim({ [id]: ROUTES }, { purge: true, stats: true, analytics: writer, clock, cache: () => caches.open(dc) }),
    );
    const path = `/a${uniquePath("")}`;
    await script(path, [{ headers: { "cache-control": "max-age=600" }, body: "a" }]);
    for (const brim of isolates) await brim.fetch(path, { host });
    const before = await totals(isolates, host);

    // Inside one relay poll interval: every isolate holds fresh marks, nothing is due.
    const step = (PURGE_RELAY_POLL_MS - 100) / 1000 / 1000;
    for (let i = 0; i < 1000; i++) {
      clock.advance(step);
      const res = await isolates[i % 4]!.fetch(path, { host });
      expect(res.headers.get("cache-status")).toMatch(/^Brim; hit/);
    }
    const after = await totals(isolates, host);
    expect(after.requests - before.requests).toBe(1000);
    expect(after.hits - before.hits).toBe(1000);
    expect(after.costs.objectCallsTotal - before.costs.objectCallsTotal).toBe(0);
    // double6…double10 are the Durable Object calls (src/stats/analytics.ts layout).
    expect(points.slice(-1000).every((p) => (p.doubles ?? []).slice(5, 10).every((n) => n === 0))).toBe(true);
  });

  it(
    "over several refresh intervals, object calls follow the clock (one per interval per data center), not the isolates",
    { timeout: 120_000 },
    async () => {
      const id = tenantId();
      const host = `${id}.test`;
      const clock = new TestClock();
      const { writer } = recordingAnalytics();
      const dc = `dc-${crypto.randomUUID()}`;
      const isolates = Array.from({ length: 4 }, () =>
        testBrim({ [id]: ROUTES }, { purge: true, stats: true, analytics: writer, clock, cache: () => caches.open(dc) }),
      );
      const path = `/a${uniquePath("")}`;
      await script(path, [{ headers: { "cache-control": "max-age=600" }, body: "a" }]);
      for (const brim of isolates) await brim.fetch(path, { host });
      const before = await totals(isolates, host);
      const spanMs = 3 * PURGE_RELAY_REFRESH_MS;
      for (let i = 0; i < 1000; i++) {
        clock.advance(spanMs / 1000 / 1000);
        await isolates[i % 4]!.fetch(path, { host });
      }
      const after = await totals(isolates, host);
      const purgeCalls = after.costs.objectCalls.purge! - before.costs.objectCalls.purge!;
      expect(purgeCalls).toBeGreaterThanOrEqual(2);
      expect(purgeCalls).toBeLessThanOrEqual(spanMs / PURGE_RELAY_REFRESH_MS);
      expect(after.costs.objectCallsTotal - before.costs.objectCallsTotal).toBe(purgeCalls);
    },
  );
});

describe("counters stored before cost accounting", () => {
  it("read as zero costs and add up without NaN", () => {
    const legacy = emptyCounters() as Partial<RouteCounters>;
    delete legacy.cacheReads;
    delete legacy.cacheWrites;
    delete legacy.memoryHits;
    delete legacy.objectCalls;
    const old = { ...legacy, requests: 5 } as RouteCounters;
    expect(report(old).costs).toEqual({
      objectCalls: { coalescer: 0, purge: 0, revocation: 0, stats: 0, config: 0 },
      objectCallsTotal: 0,
      objectCallsPer1000Requests: 0,
      cacheReads: 0,
      cacheWrites: 0,
      memoryHits: 0,
      originFetches: 0,
    });
    const into = { ...old, objectCalls: undefined } as unknown as RouteCounters;
    addCounters(into, { ...emptyCounters(), requests: 1, cacheReads: 2, objectCalls: { purge: 1 } });
    expect(report(into).costs).toMatchObject({ cacheReads: 2, objectCalls: { purge: 1 }, objectCallsTotal: 1 });
  });
});

/** Every isolate flushes (each `/__brim/stats` flushes its own isolate first); the last answer has them all. */
async function totals(isolates: TestBrim[], host: string): Promise<RouteReport> {
  let body: StatsBody | null = null;
  for (const brim of isolates) body = await stats(brim, host);
  return body!.routes["/a/*"]!;
}
