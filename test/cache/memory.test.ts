/**
 * The in-isolate memory tier (src/cache/memory.ts via src/cache/store.ts): a copy held in memory
 * is answered with no Cache API read, and only while it passes every check a Cache API hit
 * passes — freshness (anything else reads the shared copy, which another isolate may have
 * refreshed), purge marks, auth and Vary; it is bounded by entry size, total bytes and entry
 * count (least recently used out first), and dropped by invalidations. Reads are counted with a
 * counting wrapper around the real Cache API (test/cache/memory-support.ts).
 */
import { describe, expect, it } from "vitest";
import { MEMORY_TIER_MAX_ENTRY_BYTES, MEMORY_TIER_RESIDENCY_MS } from "../../src/constants";
import { formatHttpDate } from "../../src/http/http-date";
import { TestClock, testBrim, type TestBrim } from "../support/brim";
import { count, generatedBody, script, uniquePath, type ResponseSpec } from "../support/origin";
import { countingCache, fetchCounted } from "./memory-support";

const CACHED = { path: "/*", cache: { coalesce: false } };
const FRESH = { "cache-control": "max-age=600", "content-type": "text/plain" };
const GET_OK: ResponseSpec = { headers: FRESH, body: "v{count}" };
/** `spec` with a Date of the brim's clock (so moving the clock does not age the origin's answer). */
function dated(brim: TestBrim, spec: ResponseSpec): ResponseSpec {
  return { ...spec, headers: { date: formatHttpDate(brim.clock.now()), ...spec.headers } };
}

/** Long enough that a memory copy outlives the freshness of the entries below. */
const LONG_RESIDENCY = { residencyMs: 3_600_000 };

describe("memory hits", () => {
  it("a small entry is answered from memory after it is stored: no Cache API read, memoryHit metered", async () => {
    const counting = countingCache();
    const brim = testBrim({ acme: [CACHED] }, { cache: counting.cache });
    const path = uniquePath();
    await script(path, [GET_OK]);
    expect((await fetchCounted(brim, counting, path)).res.headers.get("cache-status")).toMatch(/stored$/);
    for (let i = 0; i < 3; i++) {
      const hit = await fetchCounted(brim, counting, path);
      expect(hit.res.headers.get("cache-status")).toMatch(/^Brim; hit; ttl=\d+$/);
      expect(hit.body).toBe("v1");
      expect(hit.reads).toBe(0);
      expect(hit.costs.memoryHits).toBe(1);
    }
    expect(await count(path)).toBe(1);
  });

  it("another isolate's Cache API hit fills its own memory: one read, then none", async () => {
    const counting = countingCache();
    const clock = new TestClock();
    const a = testBrim({ acme: [CACHED] }, { cache: counting.cache, clock });
    const b = testBrim({ acme: [CACHED] }, { cache: counting.cache, clock });
    const path = uniquePath();
    await script(path, [GET_OK]);
    await a.fetch(path);
    const first = await fetchCounted(b, counting, path);
    expect(first.res.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(first.reads).toBe(1);
    expect(first.costs.memoryHits).toBe(0);
    const second = await fetchCounted(b, counting, path);
    expect([second.body, second.reads, second.costs.memoryHits]).toEqual(["v1", 0, 1]);
  });

  it("Age grows on memory hits as on Cache API hits (RFC 9111 §4.2.3)", async () => {
    const counting = countingCache();
    const brim = testBrim({ acme: [CACHED] }, { cache: counting.cache });
    const path = uniquePath();
    await script(path, [GET_OK]);
    await brim.fetch(path);
    brim.clock.advance(1);
    const hit = await fetchCounted(brim, counting, path);
    expect(hit.reads).toBe(0);
    expect(Number(hit.res.headers.get("age"))).toBeGreaterThanOrEqual(1);
  });

  it("a Range request is answered from the memory copy (206, the right bytes)", async () => {
    const counting = countingCache();
    const brim = testBrim({ acme: [CACHED] }, { cache: counting.cache });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "0123456789" }]);
    await brim.fetch(path);
    const part = await fetchCounted(brim, counting, path, { headers: { range: "bytes=2-5" } });
    expect(part.res.status).toBe(206);
    expect(part.res.headers.get("content-range")).toBe("bytes 2-5/10");
    expect(part.body).toBe("2345");
    expect(part.reads).toBe(0);
    const whole = await fetchCounted(brim, counting, path);
    expect([whole.res.status, whole.body, whole.reads]).toEqual([200, "0123456789", 0]);
  });
});

describe("freshness: a memory copy is served only while fresh", () => {
  it("stale: the Cache API is read and the entry validated with the origin, as without memory", async () => {
    const counting = countingCache();
    const brim = testBrim({ acme: [CACHED] }, { cache: counting.cache, memoryTier: LONG_RESIDENCY });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=10", etag: '"e1"', "content-type": "text/plain" }, body: "body-1" }]);
    await brim.fetch(path);
    expect((await fetchCounted(brim, counting, path)).reads).toBe(0);
    brim.clock.advance(11);
    await script(path, [dated(brim, { status: 304, headers: { "cache-control": "max-age=10", etag: '"e1"' } })]);
    const stale = await fetchCounted(brim, counting, path);
    expect(stale.res.headers.get("cache-status")).toMatch(/^Brim; fwd=stale; fwd-status=304/);
    expect(stale.body).toBe("body-1");
    expect(stale.reads).toBeGreaterThanOrEqual(1);
    expect(stale.costs.memoryHits).toBe(0);
    expect(await count(path)).toBe(2);
    // The 304 refreshed the entry, in memory too.
    const hit = await fetchCounted(brim, counting, path);
    expect([hit.res.headers.get("cache-status"), hit.reads]).toEqual([expect.stringMatching(/^Brim; hit; ttl=\d+$/), 0]);
  });

  it("stale in memory but refreshed by another isolate: the fresh shared copy is served, no origin fetch", async () => {
    const counting = countingCache();
    const clock = new TestClock();
    const a = testBrim({ acme: [CACHED] }, { cache: counting.cache, clock, memoryTier: LONG_RESIDENCY });
    const b = testBrim({ acme: [CACHED] }, { cache: counting.cache, clock });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=10", "content-type": "text/plain" }, body: "old" }]);
    await a.fetch(path);
    expect((await fetchCounted(a, counting, path)).body).toBe("old");
    clock.advance(11);
    await script(path, [dated(b, { headers: { "cache-control": "max-age=10", "content-type": "text/plain" }, body: "new" })]);
    expect(await (await b.fetch(path)).text()).toBe("new");
    const fromA = await fetchCounted(a, counting, path);
    expect(fromA.res.headers.get("cache-status")).toMatch(/^Brim; hit; ttl=\d+$/);
    expect(fromA.body).toBe("new");
    expect(fromA.reads).toBeGreaterThanOrEqual(1);
    expect(await count(path)).toBe(2);
  });

  it("stale-while-revalidate from memory: the shared copy is served stale and refreshed once", async () => {
    const counting = countingCache();
    const brim = testBrim({ acme: [CACHED] }, { cache: counting.cache, memoryTier: LONG_RESIDENCY });
    const path = uniquePath();
    const spec = { headers: { "cache-control": "max-age=10, stale-while-revalidate=600", "content-type": "text/plain" }, body: "v{count}" };
    await script(path, [spec]);
    await brim.fetch(path);
    brim.clock.advance(11);
    await script(path, [dated(brim, spec)]);
    const stale = await fetchCounted(brim, counting, path);
    expect(stale.res.headers.get("cache-status")).toMatch(/^Brim; hit; ttl=-\d+; detail=stale-while-revalidate$/);
    expect(stale.body).toBe("v1");
    expect(stale.costs.memoryHits).toBe(0);
    expect(await count(path)).toBe(2);
    const fresh = await fetchCounted(brim, counting, path);
    expect([fresh.body, fresh.reads]).toEqual(["v2", 0]);
  });

  it("no-cache entries are never answered from memory without validation (RFC 9111 §5.2.2.4)", async () => {
    const counting = countingCache();
    const brim = testBrim({ acme: [CACHED] }, { cache: counting.cache });
    const path = uniquePath();
    await script(path, [
      { headers: { "cache-control": "no-cache", etag: '"n1"', "content-type": "text/plain" }, body: "nc" },
      { status: 304, headers: { "cache-control": "no-cache", etag: '"n1"' } },
    ]);
    await brim.fetch(path);
    const again = await fetchCounted(brim, counting, path);
    expect(again.res.headers.get("cache-status")).toMatch(/^Brim; fwd=stale; fwd-status=304/);
    expect(again.costs.memoryHits).toBe(0);
    expect(await count(path)).toBe(2);
  });
});

describe("invalidation drops memory copies", () => {
  it("an unsafe method invalidates the memory copy too: the next GET is a miss", async () => {
    const counting = countingCache();
    const brim = testBrim({ acme: [CACHED] }, { cache: counting.cache, memoryTier: LONG_RESIDENCY });
    const path = uniquePath();
    await script(path, [GET_OK, { status: 200, body: "done" }, GET_OK]);
    await brim.fetch(path);
    expect((await fetchCounted(brim, counting, path)).reads).toBe(0);
    expect((await brim.fetch(path, { method: "POST", body: "x" })).headers.get("cache-status")).toBe("Brim; fwd=method");
    const after = await fetchCounted(brim, counting, path);
    expect(after.res.headers.get("cache-status")).toBe("Brim; fwd=uri-miss; fwd-status=200; stored");
    expect(after.body).toBe("v3");
  });

  it("on a Vary'd (compressed) route the remembered Vary fields go too", async () => {
    const counting = countingCache();
    const brim = testBrim({ acme: [{ path: "/*", cache: { coalesce: false } }] }, { cache: counting.cache, memoryTier: LONG_RESIDENCY });
    const path = uniquePath();
    const page = { headers: FRESH, body: `page {count} ${"text ".repeat(200)}` };
    await script(path, [page, { status: 204 }, page]);
    const br = { headers: { "accept-encoding": "br" } };
    await brim.fetch(path, br);
    expect((await fetchCounted(brim, counting, path, br)).reads).toBe(0);
    await brim.fetch(path, { method: "DELETE" });
    const after = await fetchCounted(brim, counting, path, br);
    expect(after.res.headers.get("cache-status")).toMatch(/^Brim; fwd=uri-miss/);
    expect(await count(path)).toBe(3);
  });

  it("another isolate's invalidation is seen here once the memory residency ends", async () => {
    const counting = countingCache();
    const clock = new TestClock();
    const a = testBrim({ acme: [CACHED] }, { cache: counting.cache, clock });
    const b = testBrim({ acme: [CACHED] }, { cache: counting.cache, clock });
    const path = uniquePath();
    await script(path, [GET_OK, { status: 200, body: "done" }, GET_OK]);
    await a.fetch(path);
    await b.fetch(path, { method: "PUT", body: "x" });
    clock.advance(MEMORY_TIER_RESIDENCY_MS / 1000);
    const after = await fetchCounted(a, counting, path);
    expect(after.res.headers.get("cache-status")).toBe("Brim; fwd=uri-miss; fwd-status=200; stored");
    expect(after.body).toBe("v3");
  });

  it("a replacement put replaces the memory copy", async () => {
    const counting = countingCache();
    const brim = testBrim({ acme: [CACHED] }, { cache: counting.cache });
    const path = uniquePath();
    await script(path, [GET_OK]);
    await brim.fetch(path);
    // no-cache on the request: validated with the origin, which answers a new 200.
    const refetched = await brim.fetch(path, { headers: { "cache-control": "no-cache" } });
    expect(await refetched.text()).toBe("v2");
    const hit = await fetchCounted(brim, counting, path);
    expect([hit.body, hit.reads]).toEqual(["v2", 0]);
  });
});

describe("bounds and eviction", () => {
  it(`a body larger than the entry bound (${MEMORY_TIER_MAX_ENTRY_BYTES} bytes by default) is never kept: one read per hit`, async () => {
    const counting = countingCache();
    const brim = testBrim({ acme: [CACHED] }, { cache: counting.cache });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, bodyBytes: MEMORY_TIER_MAX_ENTRY_BYTES + 1 }]);
    await brim.fetch(path);
    for (let i = 0; i < 2; i++) {
      const hit = await fetchCounted(brim, counting, path);
      expect(hit.res.headers.get("cache-status")).toMatch(/^Brim; hit/);
      expect(hit.body).toBe(generatedBody(MEMORY_TIER_MAX_ENTRY_BYTES + 1));
      expect([hit.reads, hit.costs.memoryHits]).toEqual([1, 0]);
    }
  });

  it("the total bytes bound evicts the least recently used entry", async () => {
    const counting = countingCache();
    // Two 20 KB entries fit in 50,000 bytes; a third does not.
    const brim = testBrim({ acme: [CACHED] }, { cache: counting.cache, memoryTier: { maxBytes: 50_000 } });
    const base = uniquePath();
    const paths = [1, 2, 3].map((i) => `${base}/${i}`);
    for (const path of paths) await script(path, [{ headers: FRESH, bodyBytes: 20_000 }]);
    await brim.fetch(paths[0]!);
    await brim.fetch(paths[1]!);
    // Used last: 1 is now more recent than 2.
    expect((await fetchCounted(brim, counting, paths[0]!)).reads).toBe(0);
    await brim.fetch(paths[2]!);
    expect((await fetchCounted(brim, counting, paths[2]!)).reads).toBe(0);
    expect((await fetchCounted(brim, counting, paths[0]!)).reads).toBe(0);
    const evicted = await fetchCounted(brim, counting, paths[1]!);
    expect(evicted.res.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(evicted.reads).toBe(1);
  });

  it("the entry count bound evicts the least recently used entry", async () => {
    const counting = countingCache();
    const brim = testBrim({ acme: [CACHED] }, { cache: counting.cache, memoryTier: { maxEntries: 2 } });
    const base = uniquePath();
    const paths = [1, 2, 3].map((i) => `${base}/${i}`);
    for (const path of paths) {
      await script(path, [GET_OK]);
      await brim.fetch(path);
    }
    expect((await fetchCounted(brim, counting, paths[2]!)).reads).toBe(0);
    expect((await fetchCounted(brim, counting, paths[1]!)).reads).toBe(0);
    expect((await fetchCounted(brim, counting, paths[0]!)).reads).toBe(1);
  });
});
