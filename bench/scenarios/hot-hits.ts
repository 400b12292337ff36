/**
 * Hot hits: one cached URL under sustained load. Throughput, latency and the proxy's own CPU
 * time per 1,000 requests (utime + stime of its processes, from /proc).
 */
import { PURGE_RELAY_REFRESH_MS, STATS_FLUSH_INTERVAL_MS } from "../../src/constants";
import { costMetrics, withCosts } from "../lib/costs";
import { cpuMs } from "../lib/cpu";
import { originPath } from "../origin/url";
import { prime } from "./common";
import { ERRORS_METRIC, type Scenario } from "./types";

export const hotHits: Scenario = {
  id: "hot-hits",
  title: "Hot hits",
  describe: (s) =>
    `${s.hotHits.connections} keep-alive connections for ${s.hotHits.durationMs / 1000} s on one cached URL (${s.bodyBytes} B body)` +
    `${s.hotHits.warmupMs ? `, after a ${s.hotHits.warmupMs / 1000} s warm-up` : ""}.`,
  includeReference: true,
  headline: "rps",
  metrics: [
    { key: "rps", label: "req/s", better: "higher", digits: 0, vsFloor: true },
    { key: "p50", label: "p50 ms", better: "lower", digits: 2 },
    { key: "p99", label: "p99 ms", better: "lower", digits: 2 },
    { key: "cpuPer1k", label: "CPU ms / 1k req", better: "lower" },
    ERRORS_METRIC,
    ...costMetrics(
      "the measured run (after priming and warm-up)",
      "0 Durable Object calls per 1,000 hot hits in steady state, ≤ 1 Cache API read per hit. " +
        `Timer-driven calls remain whatever the load (purge relay refresh every ${PURGE_RELAY_REFRESH_MS / 1000} s, ` +
        `stats flush every ${STATS_FLUSH_INTERVAL_MS / 1000} s), so per 1,000 requests they shrink as throughput grows`,
    ),
  ],
  async run(context) {
    const { connections, durationMs, warmupMs } = context.settings.hotHits;
    const path = originPath({ profile: "fresh", latencyMs: 0, bytes: context.settings.bodyBytes, key: `${context.keyPrefix}/hot` });
    const spec = { port: context.target.port, host: context.target.host, connections, paths: [path] };
    await prime(context, path);
    if (warmupMs > 0) await context.load.run({ ...spec, durationMs: warmupMs });
    const pids = context.target.cpuPids();
    // The counters are read outside the CPU window: their requests are not the proxy's work under load.
    const { result, costs } = await withCosts(context, async () => {
      const cpuBefore = cpuMs(pids);
      const run = await context.load.run({ ...spec, durationMs });
      return { ...run, cpuSpentMs: cpuMs(pids) - cpuBefore };
    });
    const cpu = result.cpuSpentMs;
    return {
      rps: result.rps,
      p50: result.p50Ms,
      p99: result.p99Ms,
      cpuPer1k: result.requests > 0 ? (cpu / result.requests) * 1000 : Number.NaN,
      errors: result.errors + result.badStatus,
      requests: result.requests,
      ...costs,
    };
  },
};
