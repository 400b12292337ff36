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

/** The counters in scope: the innermost `metered` call's, then those of the scopes around it. */
interface Scope {
  readonly costs: Costs;
  readonly outer: Scope | undefined;
}

const current = new AsyncLocalStorage<Scope>();

/**
 * Runs `work` with `costs` as the request's counters (for it and everything it starts). Scopes
 * nest: a cost paid inside counts for every enclosing scope too (a test measuring several
 * requests around the per-request scope of src/stats/ sees the sum).
 */
export function metered<T>(costs: Costs, work: () => T): T {
  return current.run({ costs, outer: current.getStore() }, work);
}

/** Counts `n` of `kind` for the current request (and every enclosing scope), if any. */
export function meter(kind: CostKind, n = 1): void {
  for (let scope = current.getStore(); scope; scope = scope.outer) add(scope.costs, kind, n);
}

function add(costs: Costs, kind: CostKind, n: number): void {
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
