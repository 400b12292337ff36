/**
 * Slow origin: N concurrent requests for one cold key whose origin takes seconds. Shows whether
 * waiting requests are held for the one fetch (and for how long: nginx gives up waiting after
 * proxy_cache_lock_timeout, 5 s by default) or each goes to the origin.
 */
import { runBurst, summarize } from "../lib/burst";
import { originPath } from "../origin/url";
import { burstPlan, openOn, warmPath } from "./common";
import { ERRORS_METRIC, type Scenario } from "./types";

const SETTLE_MS = 200;

export const slowOrigin: Scenario = {
  id: "slow-origin",
  title: "Slow origin",
  describe: (s) =>
    `${s.slowOrigin.connections} concurrent requests for one uncached URL whose origin takes ${s.slowOrigin.latencyMs / 1000} s.`,
  includeReference: false,
  headline: "origin",
  metrics: [
    { key: "origin", label: "origin fetches", better: "lower", digits: 0 },
    { key: "p50", label: "p50 ms", better: "lower", digits: 0 },
    { key: "p99", label: "p99 ms", better: "lower", digits: 0 },
    ERRORS_METRIC,
  ],
  async run(context) {
    const { connections, latencyMs } = context.settings.slowOrigin;
    const cold = originPath({ profile: "fresh", latencyMs, bytes: context.settings.bodyBytes, key: `${context.keyPrefix}/slow` });
    const report = await runBurst(
      burstPlan(context, connections, latencyMs, [
        ...openOn(warmPath(context)),
        { kind: "burst", label: "slow", path: cold, settleMs: SETTLE_MS },
      ]),
    );
    const burst = report.bursts[0];
    if (!burst) throw new Error("slow-origin: burst client reported no burst");
    const { p50, p99, errors } = summarize(burst.samples);
    return { origin: burst.originRequests, p50, p99, errors, preopened: burst.preopened };
  },
};
