/**
 * Coalescer shards (docs/coalescing.md "Shards"): every key of a tier lives in one of a fixed set
 * of objects, so the guarantees must hold per key inside a shard, with keys sharing a shard
 * never waiting on, answering for or forgetting each other.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { cacheKey } from "../../src/cache/key";
import { coalescerName } from "../../src/coalesce/client";
import type { Coalescer } from "../../src/coalesce/object";
import { COALESCE_COLO_SHARDS, COALESCE_GLOBAL_SHARDS } from "../../src/constants";
import { count, release, requests, script, uniqueGate, uniquePath, untilCount } from "../support/origin";
import { coalescerStubs, testEdge, type KeyedStub } from "../support/brim";

const CACHED = { path: "/*", cache: {} };

async function keyUrl(path: string): Promise<string> {
  return (await cacheKey("acme", new URL(`http://acme.test${path}`), { query: { mode: "all" }, headers: [] }, new Headers())).url;
}

function received({ stub, key }: KeyedStub): Promise<number> {
  return runInDurableObject(stub, (instance: Coalescer) => instance.receivedFor(key));
}

/** Two fresh paths whose keys share both their data center shard (edge `a`) and their global shard. */
async function shardMates(): Promise<[string, string]> {
  const seen = new Map<string, string>();
  for (let i = 0; i < 5_000; i++) {
    const path = uniquePath();
    const key = await keyUrl(path);
    const shards = `${coalescerName("colo", key, "a", null)} ${coalescerName("global", key, "a", null)}`;
    const mate = seen.get(shards);
    if (mate) return [mate, path];
    seen.set(shards, path);
  }
  throw new Error("no two keys share a shard: the hash does not spread over a bounded set");
}

async function texts(responses: Promise<Response>[]): Promise<{ status: number; body: string; cacheStatus: string }[]> {
  return Promise.all(
    responses.map(async (pending) => {
      const res = await pending;
      return { status: res.status, body: await res.text(), cacheStatus: res.headers.get("cache-status") ?? "" };
    }),
  );
}

describe("Coalescer shards", { timeout: 60_000 }, () => {
  it("a key maps to one of a bounded set of objects per tier, the same for every caller", async () => {
    const names = { colo: new Set<string>(), global: new Set<string>() };
    for (let i = 0; i < 400; i++) {
      const key = await keyUrl(uniquePath());
      names.colo.add(coalescerName("colo", key, "a", null));
      names.global.add(coalescerName("global", key, "a", null));
      // The global shard depends on the key (and hint) only, never on the caller's data center.
      expect(coalescerName("global", key, "b", null)).toBe(coalescerName("global", key, "a", null));
    }
    expect(names.colo.size).toBeLessThanOrEqual(COALESCE_COLO_SHARDS);
    expect(names.global.size).toBeLessThanOrEqual(COALESCE_GLOBAL_SHARDS);
    // 400 keys spread over (nearly) every shard, not a few hot ones.
    expect(names.colo.size).toBe(COALESCE_COLO_SHARDS);
    expect(names.global.size).toBeGreaterThan(COALESCE_GLOBAL_SHARDS * 0.9);
  });

  it("two keys in the same shards have two flights in flight at once, each answered with its own body", async () => {
    const [first, second] = await shardMates();
    const gates = [uniqueGate(), uniqueGate()];
    await script(first, [{ headers: { "cache-control": "max-age=60" }, body: "first {count}", gate: gates[0] }]);
    await script(second, [{ headers: { "cache-control": "max-age=60" }, body: "second {count}", gate: gates[1] }]);
    // Several isolates on each of two edges.
    const brims = [testEdge("a", { acme: [CACHED] }), testEdge("a", { acme: [CACHED] }), testEdge("b", { acme: [CACHED] })];
    const pending = Array.from({ length: 12 }, (_, i) => brims[i % 3]!.fetch(i % 2 ? second : first));
    // Both fetches are at the origin together: the second key's flight did not queue behind the first's.
    expect(await untilCount(first, 1)).toBe(1);
    expect(await untilCount(second, 1)).toBe(1);
    await release(gates[1]!);
    await release(gates[0]!);
    const results = await texts(pending);
    results.forEach((r, i) => expect(r.body).toBe(i % 2 ? "second 1" : "first 1"));
    expect(await count(first)).toBe(1);
    expect(await count(second)).toBe(1);
  });

  it("many keys missed concurrently on two edges: one origin fetch per key, at most one global call per edge and key", async () => {
    const paths = Array.from({ length: 24 }, () => uniquePath());
    for (const path of paths) await script(path, [{ headers: { "cache-control": "max-age=60" }, body: `${path} {count}`, delayMs: 150 }]);
    const edges = { a: [testEdge("a", { acme: [CACHED] }), testEdge("a", { acme: [CACHED] })], b: [testEdge("b", { acme: [CACHED] })] };
    const all = [...edges.a, ...edges.b];
    // 4 concurrent misses per key, spread over three isolates on two edges.
    const pending = paths.flatMap((path) => Array.from({ length: 4 }, (_, i) => ({ path, res: all[i % 3]!.fetch(path) })));
    const results = await texts(pending.map((p) => p.res));
    results.forEach((r, i) => expect(r.body).toBe(`${pending[i]!.path} 1`));
    for (const path of paths) {
      expect(await count(path)).toBe(1);
      const key = await keyUrl(path);
      // Exactly one call per edge reached the key's global shard (edge a: 2 isolates, 1 call).
      expect(await received(coalescerStubs(key, "a").global)).toBe(2);
      expect(await received(coalescerStubs(key, "a").colo)).toBe(3);
      expect(await received(coalescerStubs(key, "b").colo)).toBe(1);
    }
  });

  it("invalidating a key makes its shard forget it, and only it: a shard-mate's kept response still answers", async () => {
    const [first, second] = await shardMates();
    for (const path of [first, second]) await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "v{count}" }]);
    const a = testEdge("a", { acme: [CACHED] });
    await a.fetch(first);
    await a.fetch(second);
    // An unsafe request on edge a for the first key tells both of its shards to forget it.
    await a.fetch(first, { method: "POST", body: "x" });
    // Edge b's cache is empty: the second key is answered from the global shard's kept copy,
    // the first (forgotten) is fetched again.
    const b = testEdge("b", { acme: [CACHED] });
    const [one, two] = await texts([b.fetch(first), b.fetch(second)]);
    expect(two!.body).toBe("v1");
    expect(two!.cacheStatus).toContain("collapsed");
    // The origin's third request for it (GET, POST, GET).
    expect(one!.body).toBe("v3");
    expect(one!.cacheStatus).not.toContain("collapsed");
    expect((await requests(first)).requests.filter((r) => r.method === "GET")).toHaveLength(2);
    expect(await count(second)).toBe(1);
  });
});
