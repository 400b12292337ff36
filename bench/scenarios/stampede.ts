/**
 * Stampede: N requests written at once for one cold key behind a slow-ish origin. A coalescing
 * cache sends 1 request to the origin; one that does not sends up to N. The same burst on a
 * key already cached is the floor: what the proxy costs when the origin is out of the picture.
 */
import { runBurst, summarize } from "../lib/burst";
import { burstCosts, costMetrics } from "../lib/costs";
import { originPath } from "../origin/url";
import { burstPlan, openOn, warmPath } from "./common";
import { ERRORS_METRIC, type Scenario } from "./types";

const SETTLE_MS = 200;

export const stampede: Scenario = {
  id: "stampede",
  title: "Stampede on a cold key",
  describe: (s) =>
    `${s.stampede.connections} requests written at once on pre-opened keep-alive connections for one uncached URL ` +
    `(origin answers in ${s.stampede.latencyMs} ms, \`public, max-age=60\`), then the same burst on a cached URL (the floor).`,
  includeReference: false,
  headline: "coldOrigin",
  metrics: [
    { key: "coldOrigin", label: "origin fetches (cold)", better: "lower", digits: 0 },
    { key: "coldP50", label: "p50 ms (cold)", better: "lower" },
    { key: "coldP99", label: "p99 ms (cold)", better: "lower" },
    { key: "warmOrigin", label: "origin fetches (warm)", better: "lower", digits: 0 },
    { key: "warmP50", label: "p50 ms (warm)", better: "lower" },
    { key: "warmP99", label: "p99 ms (warm)", better: "lower" },
    ERRORS_METRIC,
    ...costMetrics(
      "the cold and warm bursts only (from just before each burst to its settle time; not the priming or socket opening)",
      "≤ 1 Cache API read per hit",
    ),
  ],
  async run(context) {
    const { connections, latencyMs } = context.settings.stampede;
    const warm = warmPath(context);
    const cold = originPath({ profile: "fresh", latencyMs, bytes: context.settings.bodyBytes, key: `${context.keyPrefix}/cold` });
    const report = await runBurst(
      burstPlan(context, connections, latencyMs, [
        ...openOn(warm),
        { kind: "burst", label: "cold", path: cold, settleMs: SETTLE_MS },
        { kind: "burst", label: "warm", path: warm, settleMs: SETTLE_MS },
      ]),
    );
    const costs = burstCosts(report.bursts);
    const [coldBurst, warmBurst] = report.bursts;
    if (!coldBurst || !warmBurst) throw new Error("stampede: burst client reported no bursts");
    const c = summarize(coldBurst.samples);
    const w = summarize(warmBurst.samples);
    return {
      coldOrigin: coldBurst.originRequests,
      coldP50: c.p50,
      coldP99: c.p99,
      warmOrigin: warmBurst.originRequests,
      warmP50: w.p50,
      warmP99: w.p99,
      errors: c.errors + w.errors,
      preopened: Math.min(coldBurst.preopened, warmBurst.preopened),
      ...costs,
    };
  },
};
