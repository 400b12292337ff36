/**
 * Many keys: sustained load cycling through N distinct cold URLs (origin 20 ms). Each URL should
 * reach the origin once; throughput includes the misses of the first pass, and a slow proxy may not
 * finish even one pass (see "% answered from cache").
 */
import { costMetrics, withCosts } from "../lib/costs";
import { originPath } from "../origin/url";
import { ERRORS_METRIC, type Scenario } from "./types";

export const manyKeys: Scenario = {
  id: "many-keys",
  title: "Many keys",
  describe: (s) =>
    `${s.manyKeys.connections} connections for ${s.manyKeys.durationMs / 1000} s cycling through ${s.manyKeys.keys} uncached URLs ` +
    `(origin ${s.manyKeys.latencyMs} ms, \`public, max-age=60\`).`,
  includeReference: false,
  headline: "rps",
  metrics: [
    { key: "rps", label: "req/s", better: "higher", digits: 0, vsFloor: true },
    { key: "p50", label: "p50 ms", better: "lower", digits: 2 },
    { key: "p99", label: "p99 ms", better: "lower", digits: 2 },
    { key: "originPerKey", label: "origin req / key", better: "lower", digits: 2 },
    { key: "cachedPct", label: "% answered from cache", better: "higher", digits: 0 },
    ERRORS_METRIC,
    ...costMetrics("the whole run (first-pass misses included; a key seen again is a hit)"),
  ],
  async run(context) {
    const { keys, connections, durationMs, latencyMs } = context.settings.manyKeys;
    const prefix = `${context.keyPrefix}/k`;
    const paths = Array.from({ length: keys }, (_, i) =>
      originPath({ profile: "fresh", latencyMs, bytes: context.settings.bodyBytes, key: `${prefix}/${i}` }),
    );
    const { result, costs } = await withCosts(context, () =>
      context.load.run({ port: context.target.port, host: context.target.host, connections, durationMs, paths }),
    );
    const origin = await context.origin.countPrefix(
      originPath({ profile: "fresh", latencyMs, bytes: context.settings.bodyBytes, key: `${prefix}/` }),
    );
    return {
      rps: result.rps,
      p50: result.p50Ms,
      p99: result.p99Ms,
      originPerKey: origin.paths > 0 ? origin.requests / origin.paths : Number.NaN,
      // Requests still in flight at the end reached the origin but are not counted as answered: clamp.
      cachedPct: result.requests > 0 ? Math.max(0, (1 - origin.requests / result.requests) * 100) : Number.NaN,
      errors: result.errors + result.badStatus,
      requests: result.requests,
      keysReached: origin.paths,
      ...costs,
    };
  },
};
