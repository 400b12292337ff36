/**
 * stale-while-revalidate (RFC 5861 §3): a key cached with `max-age=1, stale-while-revalidate=30`,
 * left to go stale for 2 s, then a burst. Ideally every response is the stale copy, served at
 * once, and one request revalidates in the background: 0 responses wait for the origin.
 */
import { runBurst, summarize } from "../lib/burst";
import { burstCosts, costMetrics } from "../lib/costs";
import { originPath } from "../origin/url";
import { burstPlan, STORE_SETTLE_MS, warmPath } from "./common";
import { ERRORS_METRIC, type Scenario } from "./types";

export const swr: Scenario = {
  id: "swr",
  title: "stale-while-revalidate",
  describe: (s) =>
    `A URL cached with \`max-age=1, stale-while-revalidate=30\` (origin ${s.swr.latencyMs} ms), left ${s.swr.staleAfterMs / 1000} s (from its arrival) to go stale, ` +
    `then ${s.swr.connections} requests at once. "Waited" = responses that took at least the origin's latency.`,
  includeReference: false,
  headline: "waited",
  metrics: [
    { key: "waited", label: "responses that waited", better: "lower", digits: 0 },
    // 1 is right; 0 means the stale copy was never refreshed, more means revalidations were not collapsed.
    { key: "origin", label: "origin fetches (1 is right)", better: "none", digits: 0 },
    { key: "p50", label: "p50 ms", better: "lower" },
    { key: "p99", label: "p99 ms", better: "lower" },
    ERRORS_METRIC,
    ...costMetrics(
      "the stale burst and its background revalidation only (from just before the burst to its settle time; not the priming or socket opening)",
      "≤ 1 Cache API read per hit",
    ),
  ],
  async run(context) {
    const { connections, latencyMs, staleAfterMs } = context.settings.swr;
    const key = originPath({ profile: "swr", latencyMs, bytes: context.settings.bodyBytes, key: `${context.keyPrefix}/swr` });
    const warm = warmPath(context);
    const report = await runBurst(
      burstPlan(context, connections, latencyMs, [
        { kind: "get", path: key, mark: true },
        { kind: "get", path: warm },
        { kind: "sleep", ms: STORE_SETTLE_MS },
        { kind: "open", path: warm },
        { kind: "sleep", ms: staleAfterMs, sinceMark: true },
        // Background revalidations finish after the answers: wait out one origin round trip.
        { kind: "burst", label: "stale", path: key, settleMs: latencyMs + 500 },
      ]),
    );
    const costs = burstCosts(report.bursts);
    const burst = report.bursts[0];
    if (!burst) throw new Error("swr: burst client reported no burst");
    const { p50, p99, errors } = summarize(burst.samples);
    const waited = burst.samples.filter((sample) => sample.ms >= latencyMs).length;
    return { waited, origin: burst.originRequests, p50, p99, errors, preopened: burst.preopened, ...costs };
  },
};
