/**
 * Helpers for the memory-tier tests: a counting wrapper around a real Cache API cache (passed
 * to `testBrim` as its `cache`), so a test can assert how many Cache API reads a request made.
 */
import { expect } from "vitest";
import { metered, newCosts, type Costs } from "../../src/meter";
import type { FetchInit, TestBrim } from "../support/brim";

export interface CountingCache {
  readonly cache: () => Promise<Cache>;
  readonly counts: { match: number; put: number; delete: number };
}

/** The real cache `name`, every match/put/delete counted (all brims given it share the counts). */
export function countingCache(name = "memory-tier"): CountingCache {
  const counts = { match: 0, put: 0, delete: 0 };
  const cache = async (): Promise<Cache> => {
    const real = await caches.open(name);
    return {
      match: (request, options) => {
        counts.match++;
        return real.match(request, options);
      },
      put: (request, response) => {
        counts.put++;
        return real.put(request, response);
      },
      delete: (request, options) => {
        counts.delete++;
        return real.delete(request, options);
      },
    };
  };
  return { cache, counts };
}

/**
 * One request through `brim` (body read, background work awaited), with the Cache API reads it
 * made as the counting cache saw them and as `meter` (src/meter.ts) counted them: they must agree.
 */
export async function fetchCounted(
  brim: TestBrim,
  counting: CountingCache,
  path: string,
  init: FetchInit = {},
): Promise<{ res: Response; body: string; reads: number; costs: Costs }> {
  const before = counting.counts.match;
  const costs = newCosts();
  const res = await metered(costs, () => brim.fetch(path, init));
  const reads = counting.counts.match - before;
  expect(costs.cacheReads, "meter('cacheRead') counts every Cache API match").toBe(reads);
  return { res, body: await res.text(), reads, costs };
}
