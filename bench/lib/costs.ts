/**
 * Platform costs (issue 14) of a scenario's requests, for targets that count them (Brim: the
 * tenant totals of `GET /__brim/stats`, src/stats/). A scenario reads the counters before and
 * after what it measures and reports the difference; targets without counters show —.
 * `/__brim/stats` flushes only the isolate answering it; under wrangler dev there is one, so the
 * difference is exact.
 */
import type { BurstOutcome } from "./burst-plan";
import { sleep } from "./procs";
import type { MetricSpec, Metrics, ScenarioContext } from "../scenarios/types";

/** A tenant's running totals, as far as the cost metrics need them. */
export interface CostCounts {
  readonly requests: number;
  readonly hits: number;
  readonly objectCalls: number;
  /** By Durable Object class (coalescer, purge, revocation, stats, config). */
  readonly objectCallsByKind: Readonly<Record<string, number>>;
  readonly cacheReads: number;
  readonly cacheWrites: number;
  readonly memoryHits: number;
}

/** A request's background work (cache writes, revalidations) counts once it finishes: let it. */
const BACKGROUND_SETTLE_MS = 300;
const STATS_DEADLINE_MS = 10_000;

/**
 * The cost columns, in their own table under the scenario: `what` says which requests they cover,
 * `goal` (optional) what they should be.
 */
export function costMetrics(what: string, goal?: string): MetricSpec[] {
  const table = `Platform costs, from Brim's \`/__brim/stats\` over ${what}${goal ? `. Target: ${goal}` : ""}`;
  return [
    { key: "objectCallsPer1k", label: "Durable Object calls / 1k req", better: "lower", digits: 2, table, optional: true },
    { key: "cacheReadsPerHit", label: "Cache API reads / hit", better: "lower", digits: 2, table, optional: true },
    { key: "memoryHitPct", label: "% of hits from the memory tier", better: "none", digits: 0, table, optional: true },
  ];
}

/**
 * Runs `work` between two readings of the target's counters: its result, and the cost metrics
 * of the requests in between (none for a target without counters).
 */
export async function withCosts<T>(context: ScenarioContext, work: () => Promise<T>): Promise<{ result: T; costs: Metrics }> {
  const read = context.target.costs;
  if (!read) return { result: await work(), costs: {} };
  const before = await read();
  const started = performance.now();
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  await sleep(BACKGROUND_SETTLE_MS);
  const costs = costDelta(before, await read());
  // Timer-driven calls (relay refresh, stats flush) scale with time, not requests: per second too.
  return { result, costs: { ...costs, costObjectCallsPerS: (costs.costObjectCalls ?? Number.NaN) / seconds } };
}

/**
 * The cost metrics of the bursts alone (not the priming, socket opening or sleeps between them):
 * the burst client reads the counters just before each burst and after its settle time.
 */
export function burstCosts(bursts: readonly Pick<BurstOutcome, "costsBefore" | "costsAfter">[]): Metrics {
  const measured = bursts.filter((b) => b.costsBefore && b.costsAfter);
  if (measured.length === 0) return {};
  const sum = (pick: (b: (typeof measured)[number]) => CostCounts | undefined): CostCounts => {
    const counts = measured.map(pick).filter((c): c is CostCounts => c !== undefined);
    const total = (key: Exclude<keyof CostCounts, "objectCallsByKind">) => counts.reduce((n, c) => n + c[key], 0);
    const byKind: Record<string, number> = {};
    for (const c of counts) for (const [kind, n] of Object.entries(c.objectCallsByKind)) byKind[kind] = (byKind[kind] ?? 0) + n;
    return {
      requests: total("requests"),
      hits: total("hits"),
      objectCalls: total("objectCalls"),
      objectCallsByKind: byKind,
      cacheReads: total("cacheReads"),
      cacheWrites: total("cacheWrites"),
      memoryHits: total("memoryHits"),
    };
  };
  // Differences add up: the sum of the "after" readings less the sum of the "before" ones.
  return costDelta(
    sum((b) => b.costsBefore),
    sum((b) => b.costsAfter),
  );
}

export function costDelta(before: CostCounts, after: CostCounts): Metrics {
  const d = (key: Exclude<keyof CostCounts, "objectCallsByKind">) => after[key] - before[key];
  const byKind = Object.entries(after.objectCallsByKind).map(([kind, n]) => [
    `costObjectCalls.${kind}`,
    n - (before.objectCallsByKind[kind] ?? 0),
  ]);
  const requests = d("requests");
  const hits = d("hits");
  return {
    objectCallsPer1k: requests > 0 ? (d("objectCalls") * 1000) / requests : Number.NaN,
    cacheReadsPerHit: hits > 0 ? d("cacheReads") / hits : Number.NaN,
    memoryHitPct: hits > 0 ? (d("memoryHits") / hits) * 100 : Number.NaN,
    // In the JSON only: what the ratios are made of.
    costRequests: requests,
    costHits: hits,
    costObjectCalls: d("objectCalls"),
    ...Object.fromEntries(byKind),
    costCacheReads: d("cacheReads"),
    costCacheWrites: d("cacheWrites"),
    costMemoryHits: d("memoryHits"),
  };
}

interface StatsTotal {
  total?: {
    requests?: number;
    hits?: number;
    costs?: {
      objectCalls?: Record<string, number>;
      objectCallsTotal?: number;
      cacheReads?: number;
      cacheWrites?: number;
      memoryHits?: number;
    };
  };
}

/** Brim's tenant totals from `GET /__brim/stats` on `host` (the tenant's), with its admin token. */
export async function readBrimCosts(host: string, adminToken: string): Promise<CostCounts> {
  const res = await fetch(`http://${host}/__brim/stats`, {
    headers: { authorization: `Bearer ${adminToken}` },
    signal: AbortSignal.timeout(STATS_DEADLINE_MS),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /__brim/stats: status ${res.status}: ${text.slice(0, 200)}`);
  const { total } = JSON.parse(text) as StatsTotal;
  const costs = total?.costs;
  if (!total || !costs) throw new Error("GET /__brim/stats: no total.costs in the answer");
  return {
    requests: total.requests ?? 0,
    hits: total.hits ?? 0,
    objectCalls: costs.objectCallsTotal ?? 0,
    objectCallsByKind: costs.objectCalls ?? {},
    cacheReads: costs.cacheReads ?? 0,
    cacheWrites: costs.cacheWrites ?? 0,
    memoryHits: costs.memoryHits ?? 0,
  };
}
