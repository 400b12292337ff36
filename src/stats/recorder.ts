/**
 * Counting in the isolate: each request adds to an in-memory map (no I/O, no await), and the
 * counts are flushed to the tenant's `StatsLog` in batches through `waitUntil`, at most once per
 * STATS_FLUSH_INTERVAL_MS or every STATS_FLUSH_MAX_REQUESTS requests. A failed flush puts its
 * batch back, so counts are delayed, never lost (while the isolate lives).
 */
import { STATS_FLUSH_INTERVAL_MS, STATS_FLUSH_MAX_REQUESTS } from "../constants";
import { addCounters, addSample, emptyCounters, type RequestSample } from "./counters";
import type { StatsBatch, StatsLog } from "./object";

interface Pending {
  batch: StatsBatch;
  requests: number;
  flushedAt: number;
}

/** Options of `StatsRecorder`. */
export interface StatsRecorderOptions {
  /** The `StatsLog` namespace (one object per tenant id). */
  readonly namespace: DurableObjectNamespace<StatsLog>;
  readonly log: (event: Record<string, unknown>) => void;
}

export class StatsRecorder {
  readonly #namespace: DurableObjectNamespace<StatsLog>;
  readonly #log: (event: Record<string, unknown>) => void;
  readonly #pending = new Map<string, Pending>();

  constructor(options: StatsRecorderOptions) {
    this.#namespace = options.namespace;
    this.#log = options.log;
  }

  #for(tenantId: string, now: number): Pending {
    let pending = this.#pending.get(tenantId);
    if (!pending) {
      pending = { batch: {}, requests: 0, flushedAt: now };
      this.#pending.set(tenantId, pending);
    }
    return pending;
  }

  /** Adds one request; schedules a flush when one is due. */
  record(tenantId: string, route: string, sample: RequestSample, now: number, waitUntil: (p: Promise<unknown>) => void): void {
    const pending = this.#for(tenantId, now);
    addSample((pending.batch[route] ??= emptyCounters()), sample);
    pending.requests += 1;
    if (pending.requests >= STATS_FLUSH_MAX_REQUESTS || now - pending.flushedAt >= STATS_FLUSH_INTERVAL_MS)
      waitUntil(this.flush(tenantId, now));
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

  /** Sends what this isolate counted for the tenant. Never throws. */
  async flush(tenantId: string, now: number): Promise<void> {
    const pending = this.#pending.get(tenantId);
    if (!pending || Object.keys(pending.batch).length === 0) return;
    const batch = pending.batch;
    this.#pending.set(tenantId, { batch: {}, requests: 0, flushedAt: now });
    try {
      await this.stub(tenantId).add(batch, now);
    } catch (error) {
      // Put the counts back for the next flush.
      const current = this.#for(tenantId, now);
      for (const [route, counters] of Object.entries(batch)) addCounters((current.batch[route] ??= emptyCounters()), counters);
      this.#log({ event: "stats-flush-failed", tenant: tenantId, detail: String(error) });
    }
  }

  stub(tenantId: string): DurableObjectStub<StatsLog> {
    return this.#namespace.get(this.#namespace.idFromName(tenantId));
  }
}
