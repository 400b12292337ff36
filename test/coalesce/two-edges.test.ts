import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cacheKey } from "../../src/cache/key";
import type { Coalescer } from "../../src/coalesce/object";
import { metered, newCosts } from "../../src/meter";
import { count, release, script, uniqueGate, uniquePath, untilCount } from "../support/origin";
import { coalescerStubs, testEdge, TestClock, type KeyedStub } from "../support/brim";

const CACHED = { path: "/*", cache: {} };

async function keyUrl(path: string): Promise<string> {
  return (await cacheKey("acme", new URL(`http://acme.test${path}`), { query: { mode: "all" }, headers: [] }, new Headers())).url;
}

/** Calls a key's shard has received for it (misses and revalidations; src/coalesce/object.ts `receivedFor`). */
function received({ stub, key }: KeyedStub): Promise<number> {
  return runInDurableObject(stub, (instance: Coalescer) => instance.receivedFor(key));
}

/** Polls an object's call count until it reaches `n` (bounded), returning what it saw. */
async function untilReceived(stub: KeyedStub, n: number, tries = 120): Promise<number> {
  let seen = 0;
  for (let i = 0; i < tries; i++) {
    seen = await received(stub);
    if (seen >= n) return seen;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return seen;
}

async function texts(responses: Promise<Response>[]): Promise<{ status: number; body: string; cacheStatus: string }[]> {
  return Promise.all(
    responses.map(async (pending) => {
      const res = await pending;
      return { status: res.status, body: await res.text(), cacheStatus: res.headers.get("cache-status") ?? "" };
    }),
  );
}

/** A namespace whose objects cannot be reached (an outage or overload cannot be produced locally). */
const unreachable = {
  idFromName: () => {
    throw new Error("Durable Objects unavailable");
  },
} as unknown as typeof env.COALESCER;

describe("two data centers sharing the coalescing objects", { timeout: 30_000 }, () => {
  it("concurrent misses spread over both edges make exactly one origin fetch, one global call per edge", async () => {
    const a = testEdge("a", { acme: [CACHED] });
    const b = testEdge("b", { acme: [CACHED] });
    const path = uniquePath();
    const gate = uniqueGate();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "v{count}", gate }]);
    const stubs = { a: coalescerStubs(await keyUrl(path), "a"), b: coalescerStubs(await keyUrl(path), "b") };
    const pending = Array.from({ length: 16 }, (_, i) => (i % 2 ? b : a).fetch(path));
    // Held at the origin until every request has reached its data center's object.
    expect(await untilCount(path, 1)).toBe(1);
    expect(await untilReceived(stubs.a.colo, 8)).toBe(8);
    expect(await untilReceived(stubs.b.colo, 8)).toBe(8);
    await release(gate);
    const results = await texts(pending);
    expect(results.every((r) => r.status === 200 && r.body === "v1")).toBe(true);
    expect(await count(path)).toBe(1);
    // One call per data center reached the global object: 16 misses, 2 global calls.
    expect(await received(stubs.a.global)).toBe(2);
    // Each edge stored the response in its own cache: both now hit, with no further fetch.
    for (const edge of [a, b]) expect((await edge.fetch(path)).headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await count(path)).toBe(1);
  });

  it("concurrent misses within one edge make one call to the global tier (object count and meter)", async () => {
    const a = testEdge("a", { acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "v{count}", delayMs: 200 }]);
    const stubs = coalescerStubs(await keyUrl(path), "a");
    const costs = newCosts();
    const results = await metered(costs, () => texts(Array.from({ length: 10 }, () => a.fetch(path))));
    expect(results.every((r) => r.body === "v1")).toBe(true);
    expect(await received(stubs.colo)).toBe(10);
    expect(await received(stubs.global)).toBe(1);
    // meter("coalescer"): 10 calls to the data center's object + the 1 it made to the global one.
    expect(costs.objectCalls.coalescer).toBe(11);
    expect(await count(path)).toBe(1);
  });

  it("a hit on one edge completes while the other edge's miss for the key is held and its objects are busy", async () => {
    const filler = testEdge("a", { acme: [CACHED] });
    const path = uniquePath();
    const gate = uniqueGate();
    await script(path, [
      { headers: { "cache-control": "max-age=60" }, body: "v{count}" },
      { headers: { "cache-control": "max-age=60" }, body: "v{count}", gate },
    ]);
    expect(await (await filler.fetch(path)).text()).toBe("v1");
    // Edge B's request must validate (no-cache), so it leads a new global flight, held at the origin.
    const b = testEdge("b", { acme: [CACHED] });
    let bDone = false;
    const held = b.fetch(path, { headers: { "cache-control": "no-cache" } }).then((res) => {
      bDone = true;
      return res;
    });
    expect(await untilCount(path, 2)).toBe(2);
    // Edge A's hit: another isolate of A whose Durable Objects cannot even be reached.
    const a = testEdge("a", { acme: [CACHED] }, { coalescer: unreachable });
    const hit = await a.fetch(path);
    expect(hit.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await hit.text()).toBe("v1");
    expect(bDone).toBe(false);
    await release(gate);
    expect(await (await held).text()).toBe("v2");
  });
});

describe("overloaded or unreachable coalescing tiers never stampede the origin", { timeout: 30_000 }, () => {
  it("with a stale entry, every request serves it (detail=coalesce-unavailable) and the origin is not asked", async () => {
    const clock = new TestClock();
    const filler = testEdge("a", { acme: [CACHED] }, { clock });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=1" }, body: "v{count}" }]);
    await filler.fetch(path);
    clock.advance(5);
    const a = testEdge("a", { acme: [CACHED] }, { clock, coalescer: unreachable });
    const results = await texts(Array.from({ length: 10 }, () => a.fetch(path)));
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body).toBe("v1");
      expect(r.cacheStatus).toMatch(/^Brim; fwd=stale; .*detail=coalesce-unavailable$/);
    }
    expect(await count(path)).toBe(1);
  });

  it("with a must-revalidate entry (no stale allowed), requests get 503 and the origin is not asked", async () => {
    const clock = new TestClock();
    const filler = testEdge("a", { acme: [CACHED] }, { clock });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=1, must-revalidate" }, body: "v{count}" }]);
    await filler.fetch(path);
    clock.advance(5);
    const a = testEdge("a", { acme: [CACHED] }, { clock, coalescer: unreachable });
    const results = await texts(Array.from({ length: 10 }, () => a.fetch(path)));
    for (const r of results) {
      expect(r.status).toBe(503);
      expect(r.cacheStatus).toBe("Brim; fwd=stale; detail=coalesce-unavailable");
    }
    expect(await count(path)).toBe(1);
  });

  it("a shared fetch slower than waitMs: requests with a stale entry serve it instead of fetching for themselves", async () => {
    const clock = new TestClock();
    const route = { path: "/*", timeoutMs: 5000, cache: { coalesce: { waitMs: 150 } } };
    const a = testEdge("a", { acme: [route] }, { clock });
    const path = uniquePath();
    const gate = uniqueGate();
    await script(path, [
      { headers: { "cache-control": "max-age=1" }, body: "v{count}" },
      { headers: { "cache-control": "max-age=1" }, body: "v{count}", gate },
    ]);
    await a.fetch(path);
    clock.advance(5);
    const results = await texts(Array.from({ length: 5 }, () => a.fetch(path, { background: false })));
    for (const r of results) {
      expect(r.body).toBe("v1");
      expect(r.cacheStatus).toContain("detail=coalesce-unavailable");
    }
    // The fill, then the one shared revalidation (still held): nobody fetched for themselves.
    expect(await count(path)).toBe(2);
    await release(gate);
  });
});
