/**
 * Purge at scale (issue 16), through the real `PurgeLog` objects and the real Cache API: a
 * 1,000-URL and a 10,000-tag purge cost a bounded number of object calls and never fold into a
 * purge of everything; marks expire on the injected clock once no entry they could match can
 * still be served; an isolate behind an expiry gets the whole set; a restarted object keeps its marks.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_STORAGE_SECONDS, PURGE_MARK_TTL_MS, PURGE_MAX_STALE_MS } from "../../src/constants";
import { metered, newCosts } from "../../src/meter";
import { PurgeRegistry } from "../../src/purge/client";
import { PurgeLog } from "../../src/purge/object";
import type { PurgeRequest } from "../../src/purge/request";
import { TestClock, testBrim, testEdge } from "../support/brim";
import { count, script, uniquePath, type ResponseSpec } from "../support/origin";
import { cacheStatus, expectHit, expectPurgedMiss, purge, uniqueTenant } from "./support";

// Coalescing on (the default): a large URL purge must not call each URL's Coalescer.
const ROUTES = [{ path: "/*", cache: {} }];
const YEAR: ResponseSpec = {
  headers: { "cache-control": `max-age=${MAX_STORAGE_SECONDS}`, "content-type": "text/plain" },
  body: "v{count}",
};

function request(fields: Partial<PurgeRequest>): PurgeRequest {
  return { all: false, soft: false, urls: [], prefixes: [], tags: [], ...fields };
}

function stubFor(tenant: string): DurableObjectStub<PurgeLog> {
  return env.PURGE_LOG.get(env.PURGE_LOG.idFromName(tenant));
}

/** Requests in groups of 20 at once: a thousand one by one is slow on a busy machine. */
async function inBatches(items: readonly string[], each: (item: string) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += 20) await Promise.all(items.slice(i, i + 20).map(each));
}

interface PurgeAnswer {
  readonly ok: boolean;
  readonly log: { readonly marks: number; readonly expired: number; readonly folded: number; readonly folds: number };
  readonly objectCalls: { readonly purge: number; readonly coalescer: number };
}

describe("purge at scale", () => {
  it(
    "1,000 URLs in one request: two PurgeLog calls, no Coalescer call; every one misses, an unpurged URL still hits",
    { timeout: 240_000 },
    async () => {
      const tenant = uniqueTenant("u");
      const host = `${tenant}.test`;
      const brim = testBrim({ [tenant]: ROUTES }, { purge: true });
      const base = uniquePath();
      await script(base, [YEAR]);
      const urls = Array.from({ length: 1_000 }, (_, i) => `${base}?i=${i}`);
      await inBatches([...urls, `${base}?i=kept`], async (url) => expect((await cacheStatus(brim, url, host)).status).toMatch(/stored$/));

      const costs = newCosts();
      const res = await metered(costs, () => purge(brim, host, { urls }));
      expect(res.status).toBe(200);
      // The answer reports its own calls (admin requests are not in /__brim/stats).
      expect(await res.json<PurgeAnswer>()).toMatchObject({ ok: true, log: { marks: 1_000, folded: 0 }, objectCalls: { coalescer: 0 } });
      // The PurgeLog write, and the one read that refreshes this data center's relay.
      expect(costs.objectCalls.purge).toBeLessThanOrEqual(2);
      expect(costs.objectCalls.coalescer).toBe(0);

      await inBatches(urls, (url) => expectPurgedMiss(brim, url, host));
      await expectHit(brim, `${base}?i=kept`, host);
    },
  );

  it(
    "10,000 tags in one request: one write, no fold; a tagged entry misses, an unrelated tag still hits",
    { timeout: 60_000 },
    async () => {
      const tenant = uniqueTenant("t");
      const host = `${tenant}.test`;
      const clock = new TestClock();
      const brim = testBrim({ [tenant]: ROUTES }, { purge: true, clock });
      const [tagged, unrelated] = [uniquePath(), uniquePath()];
      await script(tagged, [{ ...YEAR, headers: { ...YEAR.headers, "cache-tag": "tag-7777" } }]);
      await script(unrelated, [{ ...YEAR, headers: { ...YEAR.headers, "cache-tag": "unrelated" } }]);
      for (const path of [tagged, unrelated]) expect((await cacheStatus(brim, path, host)).status).toMatch(/stored$/);

      const tags = Array.from({ length: 10_000 }, (_, i) => `tag-${i}`);
      const costs = newCosts();
      const res = await metered(costs, () => purge(brim, host, { tags }));
      expect(res.status).toBe(200);
      expect(await res.json<PurgeAnswer>()).toMatchObject({ ok: true, log: { marks: 10_000, folded: 0, folds: 0 } });
      expect(costs.objectCalls.purge).toBeLessThanOrEqual(2);
      await expectPurgedMiss(brim, tagged, host);
      await expectHit(brim, unrelated, host);

      // Another isolate of the data center, past the propagation bound: it takes the 10,000 marks
      // from the relay copy and still hits the unrelated entry.
      clock.advance(PURGE_MAX_STALE_MS / 1000);
      const other = testBrim({ [tenant]: ROUTES }, { purge: true, clock });
      await expectHit(other, unrelated, host);
      const log = await runInDurableObject(stubFor(tenant), (instance: PurgeLog) => instance.size());
      expect(log).toMatchObject({ marks: 10_000, folds: 0 });
    },
  );
});

describe("kept Coalescer responses after a large purge (no per-URL Coalescer calls)", () => {
  it("another data center's miss right after the purge does not get the response the global Coalescer kept", async () => {
    const tenant = uniqueTenant("k");
    const host = `${tenant}.test`;
    const clock = new TestClock();
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=600" }, body: "v{count}" }]);
    const a = testEdge(`ka-${tenant}`, { [tenant]: ROUTES }, { purge: true, clock });
    // A fills through the global Coalescer, which keeps v1 for late arrivals (COALESCE_RECENT_MS).
    expect((await cacheStatus(a, path, host)).body).toBe("v1");
    // Nine URLs: past PURGE_FORGET_KEPT_MAX_URLS, so no Coalescer is told to forget.
    const urls = [path, ...Array.from({ length: 8 }, (_, i) => `/other/${i}`)];
    const costs = newCosts();
    expect((await metered(costs, () => purge(a, host, { urls }))).status).toBe(200);
    expect(costs.objectCalls.coalescer).toBe(0);
    // B (another data center, nothing stored) knows the purge: its miss must not take the kept v1.
    const b = testEdge(`kb-${tenant}`, { [tenant]: ROUTES }, { purge: true, clock });
    expect((await cacheStatus(b, path, host)).body).toBe("v2");
    expect(await count(path)).toBe(2);
  });
});

describe("expiry on the injected clock", () => {
  it(
    "a mark outlives every entry it could match, then leaves the table, the deltas and isolates' copies",
    { timeout: 60_000 },
    async () => {
      const tenant = uniqueTenant("e");
      const host = `${tenant}.test`;
      const clock = new TestClock();
      const brim = testBrim({ [tenant]: ROUTES }, { purge: true, clock });
      const [before, after] = [uniquePath(), uniquePath()];
      // Stored for the longest time Brim keeps anything; the refetch after the purge is not stored,
      // so the entry stored before the mark stays in the cache and keeps meeting it.
      const tagged = { ...YEAR, headers: { ...YEAR.headers, "cache-tag": "old" } };
      await script(before, [tagged, { headers: { "cache-control": "no-store" }, body: "uncached" }]);
      await script(after, [tagged]);
      expect((await cacheStatus(brim, before, host)).status).toMatch(/stored$/);
      expect((await purge(brim, host, { tags: ["old"] })).status).toBe(200);
      clock.advance(1);
      expect((await cacheStatus(brim, after, host)).status).toMatch(/stored$/);

      // 200 days on: the entry stored before the mark is still servable, so still purged; the one after is not.
      clock.advance(200 * 24 * 3_600);
      expect((await cacheStatus(brim, before, host)).status).toMatch(/fwd=miss; .*detail=purged$/);
      await expectHit(brim, after, host);
      expect((await runInDurableObject(stubFor(tenant), (instance: PurgeLog) => instance.size())).marks).toBe(1);

      // Past the mark's lifetime the entry could no longer be served (older than MAX_STORAGE_SECONDS);
      // the next purge (any selector) expires the mark.
      clock.advance(PURGE_MARK_TTL_MS / 1000 - 200 * 24 * 3_600);
      const res = await purge(brim, host, { urls: ["/other"] });
      expect(await res.json<PurgeAnswer>()).toMatchObject({ log: { marks: 1, expired: 1, folded: 0 } });
      const delta = await stubFor(tenant).read(0);
      expect(delta.marks.map((m) => m.name)).toEqual(["/other"]);
      expect(delta.horizon).toBeGreaterThan(0);
    },
  );

  it("an isolate behind an expiry gets the whole set and drops what expired; deltas otherwise", async () => {
    const tenant = uniqueTenant("f");
    const clock = new TestClock();
    const stub = stubFor(tenant);
    const registry = new PurgeRegistry({ namespace: env.PURGE_LOG, cache: () => caches.open(`iso-${tenant}`), log: () => undefined });
    const view = () => registry.view(tenant, { now: clock.now(), waitUntil: () => undefined, log: () => undefined });

    await stub.purge(request({ urls: ["/a", "/b"] }), clock.now());
    const held = await view();
    expect([held.seq, held.size]).toEqual([1, 2]);
    // A delta carries only what changed since.
    await stub.purge(request({ tags: ["t"] }), clock.now());
    expect(await stub.read(1)).toMatchObject({ seq: 2, full: false, marks: [{ kind: "tag", name: "t" }] });

    // Many sequences later, past the marks' lifetime: /a and /b expire; the isolate missed all of it.
    clock.advance(PURGE_MARK_TTL_MS / 1000 + 1);
    for (let i = 0; i < 50; i++) await stub.purge(request({ urls: [`/n/${i}`] }), clock.now());
    const delta = await stub.read(1);
    expect(delta.full).toBe(true);
    expect(delta.marks.map((m) => m.name)).not.toContain("/a");
    expect(delta.marks).toHaveLength(50);

    clock.advance(PURGE_MAX_STALE_MS / 1000);
    const now = await view();
    expect(now.seq).toBe(52);
    expect(now.size).toBe(50);
    expect(now.urls.has("/a")).toBe(false);
    expect(now.verdict({ gen: 1, url: "/n/7" })).toBe("hard");
    expect(now.verdict({ gen: 52, url: "/n/7" })).toBe("none");
  });

  it("a full set older than what an isolate holds never replaces it (overlapping reads)", async () => {
    const tenant = uniqueTenant("o");
    const stub = stubFor(tenant);
    await stub.purge(request({ urls: ["/a"] }), 1_000);
    const older = await stub.read(0);
    await stub.purge(request({ urls: ["/b"] }), 2_000);
    const newer = await stub.read(0);
    const registry = new PurgeRegistry({ namespace: env.PURGE_LOG, cache: () => caches.open(`o-${tenant}`), log: () => undefined });
    const snapshot = await registry.view(tenant, { now: 3_000, waitUntil: () => undefined, log: () => undefined });
    snapshot.apply(newer);
    snapshot.apply(older);
    expect(snapshot.verdict({ gen: 1, url: "/b" })).toBe("hard");
    expect(snapshot.seq).toBe(2);
  });
});

describe("restart", () => {
  it("a PurgeLog rebuilt from storage keeps its marks, sequence, horizon and deltas", async () => {
    const tenant = uniqueTenant("r");
    const stub = stubFor(tenant);
    const t0 = 1_000_000;
    await stub.purge(request({ urls: ["/gone"] }), t0);
    await stub.purge(request({ urls: ["/a"], tags: ["x"] }), t0 + PURGE_MARK_TTL_MS + 1);
    await stub.purge(request({ prefixes: ["/p/"], soft: true }), t0 + PURGE_MARK_TTL_MS + 2);
    const before = await stub.read(0);
    const reloaded = await runInDurableObject(stub, async (_instance: PurgeLog, state) => {
      // A new instance over the same storage, as after eviction or a restart.
      const fresh = new PurgeLog(state, env);
      await state.blockConcurrencyWhile(async () => undefined);
      return { all: fresh.read(0), since2: fresh.read(2), size: fresh.size() };
    });
    expect(reloaded.all.seq).toBe(3);
    expect(reloaded.all.horizon).toBe(before.horizon);
    expect(new Set(reloaded.all.marks.map((m) => `${m.kind}:${m.name}`))).toEqual(new Set(["url:/a", "tag:x", "prefix:/p/"]));
    expect(reloaded.since2).toMatchObject({ full: false, marks: [{ kind: "prefix", name: "/p/", mark: { soft: 3, hard: 0 } }] });
    expect(reloaded.size.marks).toBe(3);
    // The removed mark's sequence survives too: a holder at seq 0 < 1 gets everything.
    expect(reloaded.all.full).toBe(true);
  });
});
