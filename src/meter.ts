/**
 * What a request costs on the platform, counted where the cost is paid: Cache API reads and
 * writes, memory-tier hits, Durable Object calls by kind. The counters ride the request's async
 * context (`AsyncLocalStorage`, `nodejs_compat`), so the code paying a cost needs no plumbing,
 * and background work a request starts (`waitUntil`: revalidations, flushes, cache writes)
 * counts for the request that started it. Outside a metered request, `meter` does nothing.
 * src/stats/ adds the counts up per tenant and route (`/__brim/stats`).
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** Durable Object classes, as counted. */
export type ObjectKind = "coalescer" | "purge" | "revocation" | "stats" | "config";

export interface Costs {
  cacheReads: number;
  cacheWrites: number;
  memoryHits: number;
  /** Calls (RPC or fetch) to Durable Objects, by class. */
  objectCalls: Record<ObjectKind, number>;
}

export type CostKind = "cacheRead" | "cacheWrite" | "memoryHit" | ObjectKind;

export function newCosts(): Costs {
  return { cacheReads: 0, cacheWrites: 0, memoryHits: 0, objectCalls: { coalescer: 0, purge: 0, revocation: 0, stats: 0, config: 0 } };
}

const current = new AsyncLocalStorage<Costs>();

/** Runs `work` with `costs` as the request's counters (for it and everything it starts). */
export function metered<T>(costs: Costs, work: () => T): T {
  return current.run(costs, work);
}

/** Counts `n` of `kind` for the current request, if any. */
export function meter(kind: CostKind, n = 1): void {
  const costs = current.getStore();
  if (!costs) return;
  switch (kind) {
    case "cacheRead":
      costs.cacheReads += n;
      return;
    case "cacheWrite":
      costs.cacheWrites += n;
      return;
    case "memoryHit":
      costs.memoryHits += n;
      return;
    default:
      costs.objectCalls[kind] += n;
  }
}
