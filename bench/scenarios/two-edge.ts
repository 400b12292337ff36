/**
 * Two data centers, locally (issue 14): two edges with separate Cache API caches and different
 * data center names that share the Durable Objects (bench/targets/brim-miniflare.ts). For each cold
 * key a burst split evenly over both edges: colo-first coalescing collapses each edge's misses in
 * its data center object and the global object makes one origin fetch for both, so the origin sees
 * 1 request per key. The same burst again is answered from each edge's own cache: hits on either
 * edge never wait on the other, and never reach the origin.
 */
import type { BurstOutcome, Sample } from "../lib/burst-plan";
import { runBurst, summarize } from "../lib/burst";
import { originPath } from "../origin/url";
import { burstPlan, openOn, warmPath } from "./common";
import { ERRORS_METRIC, type MetricSpec, type Scenario } from "./types";

/** Both edges' background cache writes land before the hit burst. */
const SETTLE_MS = 300;
const EDGE_NAMES = ["edge A", "edge B"] as const;

const latencyTable = "Latency per edge (every burst's requests split evenly over both edges; misses = the cold bursts, hits = the repeats)";
const latencyMetrics: MetricSpec[] = EDGE_NAMES.flatMap((name, edge) =>
  (["miss", "hit"] as const).flatMap((kind) => [
    { key: `${kind}P50Edge${edge}`, label: `${kind} p50 ms, ${name}`, better: "lower" as const, table: latencyTable },
    { key: `${kind}P99Edge${edge}`, label: `${kind} p99 ms, ${name}`, better: "lower" as const, table: latencyTable },
  ]),
);

export const twoEdge: Scenario = {
  id: "two-edge",
  title: "Two edges (data centers) sharing the Durable Objects",
  describe: (s) =>
    `Two edges in one workerd through Miniflare (separate Cache API caches, data centers "" and "edge-b", one set of Durable Objects). ` +
    `For each of ${s.twoEdge.keys} uncached URLs (origin ${s.twoEdge.latencyMs} ms, \`public, max-age=60\`), ${s.twoEdge.connections} requests at once ` +
    `split evenly over both edges (misses), then the same burst again (hits). Target: 1 origin fetch per key, none for the repeats.`,
  includeReference: false,
  targets: ["brim-mf"],
  headline: "originPerKey",
  headlineLabel: "origin fetches / key (1 is right)",
  metrics: [
    { key: "originPerKey", label: "origin fetches / key, misses on both edges (1 is right)", better: "lower", digits: 2 },
    { key: "maxOriginPerKey", label: "most origin fetches for one key", better: "lower", digits: 0 },
    { key: "hitOrigin", label: "origin fetches during the repeats (0 is right)", better: "lower", digits: 0 },
    ...EDGE_NAMES.map((name, edge) => ({
      key: `cachedPctEdge${edge}`,
      label: `% of repeats from ${name}'s own cache (Cache-Status hit)`,
      better: "higher" as const,
      digits: 0,
    })),
    ERRORS_METRIC,
    ...latencyMetrics,
  ],
  async run(context) {
    const edges = context.target.edges ?? [];
    if (edges.length < 2) throw new Error("two-edge: the target has no second edge");
    const { keys, connections, latencyMs } = context.settings.twoEdge;
    const paths = Array.from({ length: keys }, (_, i) =>
      originPath({ profile: "fresh", latencyMs, bytes: context.settings.bodyBytes, key: `${context.keyPrefix}/k${i}` }),
    );
    const plan = burstPlan(context, connections, latencyMs, [
      ...openOn(warmPath(context)),
      ...paths.flatMap((path, i) => [
        { kind: "burst" as const, label: `miss-${i}`, path, settleMs: SETTLE_MS },
        { kind: "burst" as const, label: `hit-${i}`, path, settleMs: SETTLE_MS },
      ]),
    ]);
    // Costs are not read here: each edge's isolate flushes its own counts only when asked on that edge.
    const { costs: _costs, ...withoutCosts } = plan;
    const report = await runBurst({ ...withoutCosts, ports: edges.slice(0, 2) });
    const misses = report.bursts.filter((b) => b.label.startsWith("miss-"));
    const hits = report.bursts.filter((b) => b.label.startsWith("hit-"));
    if (misses.length !== keys || hits.length !== keys) throw new Error("two-edge: burst client reported too few bursts");
    const perKey = misses.map((b) => b.originRequests);
    const perEdge: Record<string, number> = {};
    for (const edge of [0, 1]) {
      const miss = summarize(samplesOf(misses, edge));
      const hit = summarize(samplesOf(hits, edge));
      const repeats = samplesOf(hits, edge);
      Object.assign(perEdge, {
        [`cachedPctEdge${edge}`]: repeats.length
          ? (repeats.filter((r) => /;\s*hit\b/.test(r.cacheStatus)).length / repeats.length) * 100
          : Number.NaN,
        [`missP50Edge${edge}`]: miss.p50,
        [`missP99Edge${edge}`]: miss.p99,
        [`hitP50Edge${edge}`]: hit.p50,
        [`hitP99Edge${edge}`]: hit.p99,
      });
    }
    const all = [...misses, ...hits].flatMap((b) => b.samples);
    return {
      originPerKey: perKey.reduce((a, b) => a + b, 0) / keys,
      maxOriginPerKey: Math.max(...perKey),
      hitOrigin: hits.reduce((n, b) => n + b.originRequests, 0),
      errors: summarize(all).errors,
      ...perEdge,
      preopened: Math.min(...report.bursts.map((b) => b.preopened)),
    };
  },
};

function samplesOf(bursts: readonly BurstOutcome[], edge: number): Sample[] {
  return bursts.flatMap((b) => b.samples.filter((s) => s.edge === edge));
}
