import { DurableObject } from "cloudflare:workers";
import { STATS_SERIES_POINTS, STATS_SERIES_STEP_MS } from "../constants";
import { addCounters, emptyCounters, percentileMs, report, type RouteCounters, type RouteReport } from "./counters";

/** One point of the tenant's time series (all routes), for the charts. */
export interface SeriesPoint {
  /** Start of the step, epoch ms. */
  readonly t: number;
  readonly requests: number;
  readonly hits: number;
  readonly originFetches: number;
  readonly p50: number | null;
  readonly p99: number | null;
  /** Responses by status class, every class listed. */
  readonly statusClasses: Readonly<Record<string, number>>;
  /** Responses by Cache-Status outcome, every outcome listed. */
  readonly cacheOutcomes: Readonly<Record<string, number>>;
  readonly bytesServed: number;
  readonly bytesSaved: number;
  /** Errors of every kind and auth failures. */
  readonly errors: number;
  readonly objectCalls: number;
}

/** A tenant's totals: per route path, and overall. */
export interface StatsReport {
  readonly routes: Record<string, RouteReport>;
  readonly total: RouteReport;
  readonly series: readonly SeriesPoint[];
}

/** One isolate's counts since its last flush, by route path. */
export type StatsBatch = Record<string, RouteCounters>;

const TOTALS_KEY = "totals";
const SERIES_KEY = "series";

interface Step {
  readonly t: number;
  readonly counters: RouteCounters;
}

/**
 * One object per tenant (named by tenant id) adding up the batches isolates flush through
 * `waitUntil`. Totals are written to storage with each batch (one small value per tenant), so
 * a restart loses nothing acknowledged. For production volume, Workers Analytics Engine is
 * the better sink (docs/operations.md); this keeps `npm start` self-contained.
 */
export class StatsLog extends DurableObject<Env> {
  #totals: Record<string, RouteCounters> | null = null;
  #series: Step[] = [];

  async #load(): Promise<Record<string, RouteCounters>> {
    if (this.#totals === null) {
      this.#totals = (await this.ctx.storage.get<Record<string, RouteCounters>>(TOTALS_KEY)) ?? {};
      this.#series = (await this.ctx.storage.get<Step[]>(SERIES_KEY)) ?? [];
    }
    return this.#totals;
  }

  /** Adds a batch; `now` (the flushing isolate's clock, epoch ms) picks its time-series step. */
  async add(batch: StatsBatch, now: number): Promise<void> {
    const totals = await this.#load();
    const t = now - (now % STATS_SERIES_STEP_MS);
    let step = this.#series.find((point) => point.t === t);
    if (!step) {
      step = { t, counters: emptyCounters() };
      this.#series = [...this.#series, step].sort((a, b) => a.t - b.t).slice(-STATS_SERIES_POINTS);
    }
    for (const [route, counters] of Object.entries(batch)) {
      addCounters((totals[route] ??= emptyCounters()), counters);
      addCounters(step.counters, counters);
    }
    await this.ctx.storage.put({ [TOTALS_KEY]: totals, [SERIES_KEY]: this.#series });
  }

  /** Per route and for the whole tenant. */
  async read(): Promise<StatsReport> {
    const totals = await this.#load();
    const total = emptyCounters();
    const routes: Record<string, RouteReport> = {};
    for (const [route, counters] of Object.entries(totals)) {
      addCounters(total, counters);
      routes[route] = report(counters);
    }
    const series = this.#series.map(({ t, counters }): SeriesPoint => {
      const step = report(counters);
      return {
        t,
        requests: counters.requests,
        hits: counters.hits,
        originFetches: counters.originFetches,
        p50: finite(percentileMs(counters.originLatency, 0.5)),
        p99: finite(percentileMs(counters.originLatency, 0.99)),
        statusClasses: step.statusClasses,
        cacheOutcomes: step.cacheOutcomes,
        bytesServed: step.bytesServed,
        bytesSaved: step.compressionBytesSaved,
        errors: step.errorsTotal,
        objectCalls: step.costs.objectCallsTotal,
      };
    });
    return { routes, total: report(total), series };
  }
}

function finite(n: number | null): number | null {
  return n === null || !Number.isFinite(n) ? null : n;
}
