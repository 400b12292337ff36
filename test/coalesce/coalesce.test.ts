import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cacheKey } from "../../src/cache/key";
import { count, generatedBody, release, requests, script, uniqueGate, uniquePath, untilCount } from "../support/origin";
import { coalescerStubs, testBrim } from "../support/brim";

const CACHED = { path: "/*", cache: {} };

function burst(n: number, send: (i: number) => Promise<Response>): Promise<{ status: number; body: string; cacheStatus: string }[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await send(i);
      return { status: res.status, body: await res.text(), cacheStatus: res.headers.get("cache-status") ?? "" };
    }),
  );
}

// Bursts of 10–100 concurrent requests through one Durable Object: an explicit budget for a busy
// machine (the 12 MiB test below has its own, larger one).
describe("coalescing concurrent misses through the key's Durable Object", { timeout: 30_000 }, () => {
  it("100 concurrent cold requests make exactly 1 origin request and get 100 identical bodies", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "v{count}", delayMs: 200 }]);
    const results = await burst(100, () => brim.fetch(path));
    expect(await count(path)).toBe(1);
    expect(results.every((r) => r.status === 200 && r.body === "v1")).toBe(true);
    const collapsed = results.filter((r) => r.cacheStatus.includes("; collapsed"));
    expect(collapsed).toHaveLength(99);
    expect(results.filter((r) => r.cacheStatus === "Brim; fwd=uri-miss; fwd-status=200; stored")).toHaveLength(1);
    // And the entry landed in the cache: the next request is a hit.
    expect((await brim.fetch(path)).headers.get("cache-status")).toMatch(/^Brim; hit/);
  });

  it("a large streamed body (past the replay buffer) reaches every waiter whole, from one origin fetch", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    const size = 12 * 1024 * 1024;
    await script(path, [{ headers: { "cache-control": "max-age=60" }, bodyBytes: size, delayMs: 200 }]);
    const expected = generatedBody(size);
    const results = await burst(5, () => brim.fetch(path));
    expect(await count(path)).toBe(1);
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(size);
      expect(r.body === expected).toBe(true);
    }
    // Heavy (5 × 12 MiB through one object, then a buffered cache write): an explicit budget,
    // so a busy 2-core machine does not trip the 5 s default.
  }, 60_000);

  it("an uncacheable (private) answer is never handed to other waiters: each gets its own", async () => {
    // x-user must reach the origin on a cacheable route: named as unkeyed (only private answers use it).
    const brim = testBrim({ acme: [{ path: "/*", cache: { forwardUnkeyed: { "x-user": "only private responses depend on it" } } }] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "private, max-age=60" }, body: "for {header:x-user}", delayMs: 200 }]);
    const results = await burst(20, (i) => brim.fetch(path, { headers: { "x-user": `user-${i}` } }));
    results.forEach((r, i) => expect(r.body).toBe(`for user-${i}`));
    expect(await count(path)).toBe(20);
    const log = await requests(path);
    expect(new Set(log.requests.map((r) => r.headers["x-user"])).size).toBe(20);
  });

  it("after an uncacheable answer, requests skip the queue (hit-for-miss) instead of serializing", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "set-cookie": "s=1" }, body: "x" }]);
    await brim.fetch(path);
    // Every answer is held at the origin: requests that queued behind a leader would never
    // reach it; requests that skip the queue all arrive while the gate is still closed.
    const gate = uniqueGate();
    await script(path, [{ headers: { "set-cookie": "s=1" }, body: "x", gate }]);
    const pending = burst(5, () => brim.fetch(path));
    expect(await untilCount(path, 6)).toBe(6);
    await release(gate);
    const results = await pending;
    expect(results.every((r) => r.status === 200 && !r.cacheStatus.includes("collapsed"))).toBe(true);
  });

  it("waiters whose Vary values differ from the leader's fetch for themselves", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [
      { headers: { "cache-control": "max-age=60", vary: "accept-language" }, body: "lang={header:accept-language}", delayMs: 200 },
    ]);
    const langs = ["en", "fr", "en", "de", "fr", "en"];
    const results = await burst(langs.length, (i) => brim.fetch(path, { headers: { "accept-language": langs[i]! } }));
    results.forEach((r, i) => expect(r.body).toBe(`lang=${langs[i]}`));
    expect(await count(path)).toBeGreaterThanOrEqual(3);
    expect(await count(path)).toBeLessThanOrEqual(langs.length);
  });

  it("waiters are released by their deadline when the shared fetch is slow, and fetch for themselves", async () => {
    // waitMs below the origin's latency: every caller, the one whose request started the shared fetch included, stops waiting.
    const brim = testBrim({ acme: [{ path: "/*", timeoutMs: 5000, cache: { coalesce: { waitMs: 150 } } }] });
    const path = uniquePath();
    // The shared fetch is held at the origin until both callers have answered.
    const gate = uniqueGate();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "slow", gate }, { body: "fast" }]);
    const [first, second] = await Promise.all([brim.fetch(path, { background: false }), brim.fetch(path, { background: false })]);
    for (const res of [first!, second!]) {
      expect(await res.text()).toBe("fast");
      expect(res.headers.get("cache-status")).toContain("detail=coalesce-fallback");
    }
    expect(await count(path)).toBe(3);
    await release(gate);
  });

  it("a stuck shared fetch releases every waiter at the route's timeout", async () => {
    const brim = testBrim({ acme: [{ path: "/*", timeoutMs: 300, cache: {} }] });
    const path = uniquePath();
    // The origin never answers: only the route's timeout can release anyone.
    await script(path, [{ hang: true }]);
    const results = await burst(10, () => brim.fetch(path, { background: false }));
    for (const r of results) {
      expect(r.status).toBe(504);
      expect(r.cacheStatus).toContain("detail=origin-timeout");
    }
    // One request's fetch failed for all: the other nine say they joined it (RFC 9211 collapsed).
    expect(results.filter((r) => r.cacheStatus.includes("; collapsed"))).toHaveLength(9);
    expect(await count(path)).toBe(1);
  });

  it("nobody is stranded when the object is reset mid-flight", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "v{count}", delayMs: 500 }]);
    const pending = burst(10, () => brim.fetch(path));
    await new Promise((r) => setTimeout(r, 100));
    const key = await cacheKey("acme", new URL(`http://acme.test${path}`), { query: { mode: "all" }, headers: [] }, new Headers());
    const stub = coalescerStubs(key.url, "").global.stub;
    await runInDurableObject(stub, (_instance, state) => state.abort("test: evict mid-flight")).catch(() => {});
    const results = await pending;
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body).toMatch(/^v\d+$/);
    }
    // The data center's object retries the (reset) global one, so the waiters never fetch for
    // themselves: the aborted flight's fetch plus the retried one, at most.
    expect(await count(path)).toBeLessThanOrEqual(2);
  });

  it("when the Durable Object layer fails and nothing stale is stored, answers 503 and leaves the origin alone", async () => {
    // Changed with #14: this used to fetch the origin directly, which under overload is every
    // request fetching the origin (a stampede). Now the request is refused with Retry-After.
    // The only mock here: a namespace whose objects cannot be reached (an outage cannot be produced locally).
    const broken = {
      idFromName: () => {
        throw new Error("Durable Objects unavailable");
      },
    } as unknown as typeof env.COALESCER;
    const brim = testBrim({ acme: [CACHED] }, { coalescer: broken });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "ok" }]);
    const results = await burst(5, () => brim.fetch(path));
    for (const r of results) {
      expect(r.status).toBe(503);
      expect(r.cacheStatus).toBe("Brim; fwd=uri-miss; detail=coalesce-unavailable");
    }
    const res = await brim.fetch(path);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await count(path)).toBe(0);
  });

  it("two tenants with the same path use two objects and two origin fetches", async () => {
    const brim = testBrim({ acme: [CACHED], globex: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "{header:x-forwarded-host}", delayMs: 200 }]);
    const results = await burst(10, (i) => brim.fetch(path, { host: i % 2 ? "globex.test" : "acme.test" }));
    results.forEach((r, i) => expect(r.body).toBe(i % 2 ? "globex.test" : "acme.test"));
    expect(await count(path)).toBe(2);
  });

  it("with coalesce: false every concurrent miss goes to the origin", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { coalesce: false } }] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "v", delayMs: 200 }]);
    await burst(10, () => brim.fetch(path));
    expect(await count(path)).toBe(10);
  });
});

describe("late arrivals and other data centers", () => {
  it("a request just after the fetch completed gets the kept response, and its own data center stores it", async () => {
    // Brim B stands for another data center: its own cache, and requests whose cf.colo differs.
    const a = testBrim({ acme: [CACHED] });
    const b = testBrim({ acme: [CACHED] }, { cache: () => caches.open("colo-b") });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "v{count}" }]);
    expect(await (await a.fetch(path)).text()).toBe("v1");
    const late = await b.fetch(path, { cf: { colo: "LHR" } } as RequestInit);
    expect(await late.text()).toBe("v1");
    expect(late.headers.get("cache-status")).toBe("Brim; fwd=uri-miss; fwd-status=200; stored; collapsed");
    const again = await b.fetch(path, { cf: { colo: "LHR" } } as RequestInit);
    expect(again.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await count(path)).toBe(1);
  });
});

// Concurrent stale requests from two isolates through the Durable Object: an explicit budget for a busy machine.
describe("stale-while-revalidate across isolates", { timeout: 30_000 }, () => {
  it("concurrent stale requests from two isolates cause one background revalidation", async () => {
    // Two Brim instances stand for two isolates: separate in-memory locks, one cache, one object per key.
    const a = testBrim({ acme: [CACHED] });
    const b = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=1, stale-while-revalidate=60" }, body: "v{count}", delayMs: 300 }]);
    await a.fetch(path);
    a.clock.advance(5);
    b.clock.advance(5);
    const results = await Promise.all([a.fetch(path), b.fetch(path), a.fetch(path), b.fetch(path)]);
    for (const res of results) {
      expect(await res.text()).toBe("v1");
      expect(res.headers.get("cache-status")).toContain("detail=stale-while-revalidate");
    }
    expect(await count(path)).toBe(2);
  });
});

describe("Vary on a field Brim does not forward (RFC 9111 §4.1)", () => {
  it("a response kept for late arrivals never answers a request with another value of that field", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: {} }] });
    const path = uniquePath();
    // The origin names x-variant in Vary; Brim's shared fetch does not forward it (not keyed,
    // not in forwardUnkeyed), so only the object's own comparison can tell the requests apart.
    await script(path, [{ headers: { "cache-control": "max-age=60", vary: "x-variant" }, body: "v{count}" }]);
    const first = await brim.fetch(path, { headers: { "x-variant": "one" } });
    expect(await first.text()).toBe("v1");
    const other = await brim.fetch(path, { headers: { "x-variant": "two" } });
    expect(other.headers.get("cache-status")).toMatch(/fwd=vary-miss/);
    expect(await other.text()).toBe("v2");
    const same = await brim.fetch(path, { headers: { "x-variant": "one" } });
    expect(same.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await same.text()).toBe("v1");
    expect(await count(path)).toBe(2);
  });
});
