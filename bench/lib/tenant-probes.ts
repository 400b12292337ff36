/**
 * The two measurements of the Tenants scenario, on any Worker: the first request for each of a
 * list of hosts, each paired with a second request for the same host right after it (so drift
 * on a shared machine hits both alike), and throughput runs cycling the Host header, split in
 * slices taken in rotating order.
 */
import type { LoadResult, LoadTool } from "./load/types";
import { sequentialClient } from "./sequential";
import { median, percentile } from "./stats";
import type { Metrics } from "../scenarios/types";

/** Bound on each single request. */
const REQUEST_DEADLINE_MS = 30_000;

export interface ColdProbe {
  readonly port: number;
  readonly path: string;
  /** Made-up hosts requested first (connection, code paths, the isolate's first KV read). */
  readonly warmup: readonly string[];
  /** Hosts this isolate has not seen, in order. */
  readonly hosts: readonly string[];
  /** Every other host requested once more, after the sample, so it is warm for a load run. */
  readonly prime: readonly string[];
  readonly expectedStatus: number;
}

/** ColdP50, ColdP99 (first requests), AgainP50 (the second request for each), ExtraP50 (median of first − second), WrongStatus. */
export async function coldThenAgain(probe: ColdProbe): Promise<Metrics> {
  const client = sequentialClient(probe.port, REQUEST_DEADLINE_MS);
  try {
    let wrong = 0;
    const get = async (host: string) => {
      const reply = await client.get(host, probe.path);
      if (reply.status !== probe.expectedStatus) wrong++;
      return reply.ms;
    };
    // Made-up hosts: Brim answers 421 (no tenant), so their status is not checked.
    for (const host of probe.warmup) await client.get(host, probe.path);
    const cold: number[] = [];
    const again: number[] = [];
    for (const host of probe.hosts) {
      cold.push(await get(host));
      again.push(await get(host));
    }
    for (const host of probe.prime) await get(host);
    return {
      ColdP50: percentile(cold, 50),
      ColdP99: percentile(cold, 99),
      AgainP50: percentile(again, 50),
      ExtraP50: median(cold.map((ms, i) => ms - (again[i] ?? Number.NaN))),
      ColdHosts: cold.length,
      WrongStatus: wrong,
    };
  } finally {
    client.close();
  }
}

export interface HostLoad {
  readonly port: number;
  readonly path: string;
  readonly hosts: readonly string[];
  readonly expectedStatus: number;
}

/** Each named load for `durationMs` in all, in `slices` slices in rotating order: Rps, P50 (median of slices), Errors each. */
export async function slicedLoads(
  tool: LoadTool,
  loads: Readonly<Record<string, HostLoad>>,
  connections: number,
  durationMs: number,
  slices: number,
): Promise<Metrics> {
  const names = Object.keys(loads);
  const results = new Map<string, LoadResult[]>(names.map((name) => [name, []]));
  for (let slice = 0; slice < slices; slice++) {
    for (const name of rotate(names, slice)) {
      const load = loads[name]!;
      const result = await tool.run({
        port: load.port,
        host: load.hosts[0] ?? "",
        connections,
        durationMs: durationMs / slices,
        paths: [load.path],
        // wrk keeps the Host it was given as "Host", autocannon as "host": replace that one, never add a second.
        rotateHeader: { name: tool.name === "wrk" ? "Host" : "host", values: load.hosts },
      });
      results.get(name)!.push(result);
    }
  }
  const metrics: Metrics = {};
  for (const [name, runs] of results) {
    const expected = loads[name]!.expectedStatus;
    const requests = runs.reduce((sum, run) => sum + run.requests, 0);
    const ms = runs.reduce((sum, run) => sum + run.durationMs, 0);
    // The load tools count non-2xx/3xx only: every 404 is "bad", and a 200 where a 404 was expected is the wrong answer.
    const wrong = runs.reduce((sum, run) => sum + run.errors + (expected >= 400 ? run.requests - run.badStatus : run.badStatus), 0);
    metrics[`${name}Rps`] = ms > 0 ? requests / (ms / 1000) : Number.NaN;
    metrics[`${name}P50`] = median(runs.map((run) => run.p50Ms));
    metrics[`${name}P99`] = median(runs.map((run) => run.p99Ms));
    metrics[`${name}Errors`] = wrong;
  }
  return metrics;
}

function rotate<T>(list: readonly T[], by: number): T[] {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}
