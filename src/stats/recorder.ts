/**
 * Counting in the isolate: each request adds to an in-memory map (no I/O, no await). Every
 * STATS_FLUSH_INTERVAL_MS or STATS_FLUSH_MAX_REQUESTS requests the isolate closes its batch
 * (through `waitUntil`): each request's platform costs are added then, so the background work it
 * started and that finished by then counts for it; with Analytics Engine bound, each request
 * becomes one data point (src/stats/analytics.ts). The batch goes to the tenant's `StatsLog`
 * at that moment, or with Analytics Engine only every STATS_OBJECT_FLUSH_WITH_ANALYTICS_MS. A
 * failed flush puts its batch back, so counts are delayed, never lost (while the isolate lives).
 */
import { STATS_FLUSH_INTERVAL_MS, STATS_FLUSH_MAX_REQUESTS, STATS_OBJECT_FLUSH_WITH_ANALYTICS_MS } from "../constants";
import { meter, type Costs } from "../meter";
import { dataPoint, type AnalyticsWriter } from "./analytics";
import { addCosts, addCounters, addSample, emptyCounters, type RequestSample } from "./counters";
import type { StatsBatch, StatsLog } from "./object";

/** One request waiting for its batch to close: its costs may still grow (its `waitUntil` work). */
interface Open {
  readonly route: string;
  readonly sample: RequestSample;
  readonly costs: Costs;
}

interface Pending {
  batch: StatsBatch;
  open: Open[];
  closedAt: number;
  flushedAt: number;
}

/** Options of `StatsRecorder`. */
export interface StatsRecorderOptions {
  /** The `StatsLog` namespace (one object per tenant id). */
  readonly namespace: DurableObjectNamespace<StatsLog>;
  /** Workers Analytics Engine dataset (`STATS_AE`); null: the object is the only sink. */
  readonly analytics?: AnalyticsWriter | null;
  readonly log: (event: Record<string, unknown>) => void;
}

export class StatsRecorder {
  readonly #namespace: DurableObjectNamespace<StatsLog>;
  readonly #analytics: AnalyticsWriter | null;
  readonly #log: (event: Record<string, unknown>) => void;
  readonly #pending = new Map<string, Pending>();

  constructor(options: StatsRecorderOptions) {
    this.#namespace = options.namespace;
    this.#analytics = options.analytics ?? null;
    this.#log = options.log;
  }

  #for(tenantId: string, now: number): Pending {
    let pending = this.#pending.get(tenantId);
    if (!pending) {
      pending = { batch: {}, open: [], closedAt: now, flushedAt: now };
      this.#pending.set(tenantId, pending);
    }
    return pending;
  }

  /** Adds one request (its costs are read when the batch closes); schedules that when due. */
  record(
    tenantId: string,
    route: string,
    sample: RequestSample,
    costs: Costs,
    now: number,
    waitUntil: (p: Promise<unknown>) => void,
  ): void {
    const pending = this.#for(tenantId, now);
    addSample((pending.batch[route] ??= emptyCounters()), sample);
    pending.open.push({ route, sample, costs });
    if (pending.open.length >= STATS_FLUSH_MAX_REQUESTS || now - pending.closedAt >= STATS_FLUSH_INTERVAL_MS)
      waitUntil(this.#close(tenantId, now, false));
  }

  /** An auth failure (from the `auth-failed` log event); counted with the next flush. */
  authRejected(tenantId: string, route: string, reason: string, now: number): void {
    const counters = (this.#for(tenantId, now).batch[route] ??= emptyCounters());
    counters.authRejections[reason] = (counters.authRejections[reason] ?? 0) + 1;
  }

  /** An origin or internal failure, by stable event name (from the log event); counted with the next flush. */
  failed(tenantId: string, route: string, kind: string, now: number): void {
    const counters = (this.#for(tenantId, now).batch[route] ??= emptyCounters());
    counters.errors[kind] = (counters.errors[kind] ?? 0) + 1;
  }

  /** Bytes Brim's compression saved on one response (reported once its body is sent). */
  compressionSaved(tenantId: string, route: string, bytes: number, now: number): void {
    const counters = (this.#for(tenantId, now).batch[route] ??= emptyCounters());
    counters.compressionBytesSaved += bytes;
  }

  /** Body bytes of one response that had no Content-Length (reported once its body is sent). */
  bytesServed(tenantId: string, route: string, bytes: number, now: number): void {
    const counters = (this.#for(tenantId, now).batch[route] ??= emptyCounters());
    counters.bytesServed += bytes;
  }

  /** Closes the batch and sends what this isolate counted for the tenant to its object. Never throws. */
  flush(tenantId: string, now: number): Promise<void> {
    return this.#close(tenantId, now, true);
  }

  async #close(tenantId: string, now: number, force: boolean): Promise<void> {
    const pending = this.#pending.get(tenantId);
    if (!pending) return;
    const toObject = force || this.#analytics === null || now - pending.flushedAt >= STATS_OBJECT_FLUSH_WITH_ANALYTICS_MS;
    // Counted for the request that closes the batch, before its own costs are read.
    if (toObject && Object.keys(pending.batch).length > 0) meter("stats");
    const open = pending.open;
    pending.open = [];
    pending.closedAt = now;
    for (const { route, sample, costs } of open) {
      addCosts((pending.batch[route] ??= emptyCounters()), costs);
      if (this.#analytics) this.#write(tenantId, route, sample, costs);
    }
    if (!toObject || Object.keys(pending.batch).length === 0) return;
    const batch = pending.batch;
    pending.batch = {};
    pending.flushedAt = now;
    try {
      await this.stub(tenantId).add(batch, now);
    } catch (error) {
      // Put the counts back for the next flush.
      const current = this.#for(tenantId, now);
      for (const [route, counters] of Object.entries(batch)) addCounters((current.batch[route] ??= emptyCounters()), counters);
      this.#log({ event: "stats-flush-failed", tenant: tenantId, detail: String(error) });
    }
  }

  #write(tenantId: string, route: string, sample: RequestSample, costs: Costs): void {
    try {
      this.#analytics?.writeDataPoint(dataPoint(tenantId, route, sample, costs));
    } catch (error) {
      // Analytics are best-effort: never fail or slow a request for them.
      this.#log({ event: "stats-analytics-failed", tenant: tenantId, detail: String(error) });
    }
  }

  stub(tenantId: string): DurableObjectStub<StatsLog> {
    return this.#namespace.get(this.#namespace.idFromName(tenantId));
  }
}
