/**
 * Memory-tier copies pass the checks a Cache API hit passes: purge marks (hard and soft), auth
 * (identities and tenants never share a copy; Vary on Authorization holds), Vary (each variant
 * its own copy); and a hit costs at most one Cache API read, compressible (Vary'd) routes
 * included. Reads are counted with a counting wrapper around the real Cache API
 * (test/cache/memory-support.ts), cross-checked with `meter`.
 */
import { describe, expect, it } from "vitest";
import { TestClock, testBrim } from "../support/brim";
import { count, script, uniquePath, type ResponseSpec } from "../support/origin";
import { authBlock, goodClaims, sign, signingKey } from "../support/jwt";
import { purge, uniqueTenant } from "../purge/support";
import { countingCache, fetchCounted } from "./memory-support";

const FRESH = { "cache-control": "max-age=600", "content-type": "text/plain" };
const GET_OK: ResponseSpec = { headers: FRESH, body: "v{count}" };
/** Keeps memory copies for the whole test whatever the clock does. */
const LONG_RESIDENCY = { residencyMs: 3_600_000 };

describe("purge marks apply to memory copies", () => {
  it("hard: the memory copy is not served after a purge; the refill is", async () => {
    const counting = countingCache();
    const tenant = uniqueTenant("m");
    const host = `${tenant}.test`;
    const brim = testBrim({ [tenant]: [{ path: "/*", cache: {} }] }, { purge: true, cache: counting.cache, memoryTier: LONG_RESIDENCY });
    const path = uniquePath();
    await script(path, [GET_OK]);
    await brim.fetch(path, { host });
    expect((await fetchCounted(brim, counting, path, { host })).reads).toBe(0);
    expect((await purge(brim, host, { urls: [path] })).status).toBe(200);
    const after = await fetchCounted(brim, counting, path, { host });
    expect(after.res.headers.get("cache-status")).toBe("Brim; fwd=miss; fwd-status=200; stored; detail=purged");
    expect(after.body).toBe("v2");
    expect(after.costs.memoryHits).toBe(0);
    const hit = await fetchCounted(brim, counting, path, { host });
    expect([hit.body, hit.reads]).toEqual(["v2", 0]);
  });

  it("soft: the memory copy is treated as stale (served once more while one revalidation runs)", async () => {
    const counting = countingCache();
    const tenant = uniqueTenant("m");
    const host = `${tenant}.test`;
    const brim = testBrim({ [tenant]: [{ path: "/*", cache: {} }] }, { purge: true, cache: counting.cache, memoryTier: LONG_RESIDENCY });
    const path = uniquePath();
    await script(path, [GET_OK]);
    await brim.fetch(path, { host });
    expect((await fetchCounted(brim, counting, path, { host })).reads).toBe(0);
    await purge(brim, host, { urls: [path], soft: true });
    const stale = await fetchCounted(brim, counting, path, { host });
    expect(stale.res.headers.get("cache-status")).toMatch(/^Brim; hit; ttl=-\d+; detail=stale-while-revalidate$/);
    expect(stale.body).toBe("v1");
    expect(stale.costs.memoryHits).toBe(0);
    expect(await count(path)).toBe(2);
    const fresh = await fetchCounted(brim, counting, path, { host });
    expect([fresh.res.headers.get("cache-status"), fresh.body, fresh.reads]).toEqual([
      expect.stringMatching(/^Brim; hit; ttl=\d+$/),
      "v2",
      0,
    ]);
  });

  it("a purge in one isolate makes another isolate's memory copy unusable once its marks arrive", async () => {
    const counting = countingCache();
    const tenant = uniqueTenant("m");
    const host = `${tenant}.test`;
    const clock = new TestClock();
    const options = { purge: true, cache: counting.cache, memoryTier: LONG_RESIDENCY, clock };
    const a = testBrim({ [tenant]: [{ path: "/*", cache: {} }] }, options);
    const b = testBrim({ [tenant]: [{ path: "/*", cache: {} }] }, options);
    const path = uniquePath();
    await script(path, [GET_OK]);
    await a.fetch(path, { host });
    expect((await fetchCounted(a, counting, path, { host })).reads).toBe(0);
    await purge(b, host, { urls: [path] });
    // Past the isolate's purge-mark staleness bound (src/purge/): the next request sees the mark.
    clock.advance(60);
    await a.fetch(path, { host });
    const after = await fetchCounted(a, counting, path, { host });
    expect(after.body).toBe("v2");
    expect(await count(path)).toBe(2);
  });
});

describe("auth: a memory copy never crosses identities or tenants", () => {
  async function tenantAuth() {
    const key = await signingKey("RS256");
    return { key, auth: await authBlock({ keys: [key.jwk!] }, { forward: { claims: { org: "x-org-id" } } }) };
  }

  it("a claims-keyed route: each claim value has its own copy", async () => {
    const counting = countingCache();
    const { key, auth } = await tenantAuth();
    const routes = [{ path: "/*", auth: "required", cache: { key: { claims: ["org"] } } }];
    const brim = testBrim([{ id: "acme", auth, routes }], { cache: counting.cache });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "org {header:x-org-id} #{count}" }]);
    const as = (org: string) => sign(key, goodClaims(brim.clock.now(), { org }));
    expect(await (await brim.fetch(path, { token: await as("o1") })).text()).toBe("org o1 #1");
    const o1 = await fetchCounted(brim, counting, path, { token: await as("o1") });
    expect([o1.body, o1.reads]).toEqual(["org o1 #1", 0]);
    const o2 = await fetchCounted(brim, counting, path, { token: await as("o2") });
    expect(o2.body).toBe("org o2 #2");
    expect(o2.costs.memoryHits).toBe(0);
    const anonymous = await brim.fetch(path);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).not.toContain("org o");
  });

  it("Vary: Authorization on a public response: each credential its own copy (RFC 9111 §4.1, §3.5)", async () => {
    const counting = countingCache();
    const { key, auth } = await tenantAuth();
    const brim = testBrim([{ id: "acme", auth, routes: [{ path: "/*", auth: "required", cache: { coalesce: false } }] }], {
      cache: counting.cache,
    });
    const path = uniquePath();
    await script(path, [
      { headers: { "cache-control": "public, max-age=60", vary: "authorization" }, body: "for {header:x-org-id} #{count}" },
    ]);
    const alice = await sign(key, goodClaims(brim.clock.now(), { org: "a" }));
    const bob = await sign(key, goodClaims(brim.clock.now(), { org: "b" }));
    expect(await (await brim.fetch(path, { token: alice })).text()).toBe("for a #1");
    expect(await (await brim.fetch(path, { token: bob })).text()).toBe("for b #2");
    for (const [token, body] of [
      [alice, "for a #1"],
      [bob, "for b #2"],
    ] as const) {
      const hit = await fetchCounted(brim, counting, path, { token });
      expect([hit.body, hit.reads, hit.costs.memoryHits]).toEqual([body, 0, 1]);
    }
  });

  it("another tenant with the same path never gets the memory copy", async () => {
    const counting = countingCache();
    const brim = testBrim({ acme: [{ path: "/*", cache: {} }], globex: [{ path: "/*", cache: {} }] }, { cache: counting.cache });
    const path = uniquePath();
    await script(path, [GET_OK]);
    expect(await (await brim.fetch(path, { host: "acme.test" })).text()).toBe("v1");
    const other = await fetchCounted(brim, counting, path, { host: "globex.test" });
    expect(other.body).toBe("v2");
    expect(other.res.headers.get("cache-status")).toMatch(/fwd=uri-miss/);
    expect((await fetchCounted(brim, counting, path, { host: "acme.test" })).body).toBe("v1");
  });
});

describe("Vary: each variant its own memory copy", () => {
  it("two variants of an origin's Vary field are both answered from memory, each to its own requests", async () => {
    const counting = countingCache();
    const brim = testBrim({ acme: [{ path: "/*", cache: { coalesce: false } }] }, { cache: counting.cache });
    const path = uniquePath();
    // The origin never sees x-flavor (not a forwarded field); only Brim's Vary does.
    await script(path, [{ headers: { ...FRESH, vary: "x-flavor" }, body: "#{count}" }]);
    for (const flavor of ["a", "b"]) await brim.fetch(path, { headers: { "x-flavor": flavor } });
    for (const [flavor, body] of [
      ["a", "#1"],
      ["b", "#2"],
      ["a", "#1"],
    ] as const) {
      const hit = await fetchCounted(brim, counting, path, { headers: { "x-flavor": flavor } });
      expect([hit.body, hit.reads]).toEqual([body, 0]);
    }
    // A value not seen yet is a vary-miss, not another variant's copy.
    const c = await fetchCounted(brim, counting, path, { headers: { "x-flavor": "c" } });
    expect(c.res.headers.get("cache-status")).toMatch(/^Brim; fwd=vary-miss/);
    expect(c.body).toBe("#3");
  });
});

describe("one Cache API read per hit at most, compressible routes included", () => {
  const COMPRESSED = { path: "/*", cache: {}, compression: {} };
  const PAGE: ResponseSpec = { headers: { ...FRESH, "content-type": "text/html" }, body: `<p>page {count}</p>${"<p>row</p>".repeat(300)}` };
  const BR = { headers: { "accept-encoding": "gzip, deflate, br" } };
  const GZIP = { headers: { "accept-encoding": "gzip" } };

  it("warm: 0 reads per hit from memory, for each coding", async () => {
    const counting = countingCache();
    const brim = testBrim({ acme: [COMPRESSED] }, { cache: counting.cache });
    const path = uniquePath();
    await script(path, [PAGE]);
    await brim.fetch(path, BR);
    await brim.fetch(path, GZIP);
    for (const init of [BR, GZIP, BR]) {
      const hit = await fetchCounted(brim, counting, path, init);
      expect(hit.res.headers.get("cache-status")).toMatch(/^Brim; hit/);
      expect(hit.res.headers.get("vary")).toBe("accept-encoding");
      expect(hit.res.headers.get("content-encoding")).toBe(init === GZIP ? "gzip" : "br");
      expect(hit.reads).toBe(0);
    }
  });

  it("memory tier bypassed (entry bound 0): exactly one read per hit in a warm isolate, two once in a cold one", async () => {
    const counting = countingCache();
    const clock = new TestClock();
    const noMemory = { cache: counting.cache, clock, memoryTier: { maxEntryBytes: 0 } };
    const a = testBrim({ acme: [COMPRESSED] }, noMemory);
    const b = testBrim({ acme: [COMPRESSED] }, noMemory);
    const path = uniquePath();
    await script(path, [PAGE]);
    await a.fetch(path, BR);
    for (let i = 0; i < 3; i++) {
      const hit = await fetchCounted(a, counting, path, BR);
      expect(hit.res.headers.get("cache-status")).toMatch(/^Brim; hit/);
      expect([hit.reads, hit.costs.memoryHits]).toEqual([1, 0]);
    }
    // Another isolate: the marker once (it learns the Vary fields), then the variant alone.
    const cold = await fetchCounted(b, counting, path, BR);
    expect(cold.res.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(cold.reads, cold.res.headers.get("cache-status") ?? "").toBe(2);
    for (const init of [BR, GZIP]) await b.fetch(path, init);
    for (const init of [BR, GZIP]) {
      const warm = await fetchCounted(b, counting, path, init);
      expect(warm.res.headers.get("cache-status")).toMatch(/^Brim; hit/);
      expect(warm.reads).toBe(1);
    }
  });

  it("a changed marker (the origin's Vary changed) is noticed: the remembered fields are dropped, variants stay correct", async () => {
    const counting = countingCache();
    const clock = new TestClock();
    const a = testBrim(
      { acme: [{ path: "/*", cache: { coalesce: false } }] },
      { cache: counting.cache, clock, memoryTier: { maxEntryBytes: 0 } },
    );
    const b = testBrim(
      { acme: [{ path: "/*", cache: { coalesce: false } }] },
      { cache: counting.cache, clock, memoryTier: { maxEntryBytes: 0 } },
    );
    const path = uniquePath();
    await script(path, [{ headers: { ...FRESH, vary: "x-flavor" }, body: "flavor #{count}" }]);
    await a.fetch(path, { headers: { "x-flavor": "a", "x-size": "1" } });
    expect(await (await a.fetch(path, { headers: { "x-flavor": "a", "x-size": "2" } })).text()).toBe("flavor #1");
    // Another isolate stores the URL varying on another field: a new marker generation.
    await script(path, [{ headers: { ...FRESH, vary: "x-size" }, body: "size #{count}" }]);
    expect(await (await b.fetch(path, { headers: { "x-flavor": "a", "x-size": "1", "cache-control": "no-cache" } })).text()).toBe(
      "size #2",
    );
    // `a` still remembers Vary: x-flavor, whose old variant is orphaned but not deleted. After
    // its residency the marker is read again and the new variant is found.
    clock.advance(10);
    const res = await fetchCounted(a, counting, path, { headers: { "x-flavor": "a", "x-size": "1" } });
    expect(res.body).toBe("size #2");
    const other = await fetchCounted(a, counting, path, { headers: { "x-flavor": "a", "x-size": "9" } });
    expect(other.res.headers.get("cache-status")).toMatch(/^Brim; fwd=vary-miss/);
  });
});
