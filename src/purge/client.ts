/**
 * The isolate's view of each tenant's purge marks. A hit checks the marks this isolate holds
 * (map lookups, no I/O); they are re-read from the tenant's `PurgeLog` in the background once
 * older than PURGE_ISOLATE_TTL_MS. Only a request that finds them older than
 * PURGE_MAX_STALE_MS (a cold or idle isolate) waits for the read: that is what bounds
 * propagation. Read times are the start of the read, so the bound holds whatever its latency.
 */
import { PURGE_ISOLATE_TTL_MS, PURGE_MAX_STALE_MS, PURGE_READ_TIMEOUT_MS } from "../constants";
import type { PurgeLog } from "./object";
import type { PurgeRequest } from "./request";
import { PurgeSnapshot } from "./rules";

export interface PurgeViewContext {
  /** Epoch ms (the injected clock). */
  readonly now: number;
  readonly waitUntil: (promise: Promise<unknown>) => void;
  readonly log: (event: Record<string, unknown>) => void;
}

interface TenantMarks {
  readonly snapshot: PurgeSnapshot;
  /** When the last successful read started (injected clock). */
  readAt: number;
  /** Real-time deadline of the read in flight; never shared as a promise across requests. */
  readingUntil: number;
}

/** Options of `PurgeRegistry`. */
export interface PurgeRegistryOptions {
  /** The `PurgeLog` namespace (one object per tenant id). */
  readonly namespace: DurableObjectNamespace<PurgeLog>;
}

/** One per isolate: every tenant's marks, read from its `PurgeLog`. */
export class PurgeRegistry {
  readonly #namespace: DurableObjectNamespace<PurgeLog>;
  readonly #tenants = new Map<string, TenantMarks>();

  constructor(options: PurgeRegistryOptions) {
    this.#namespace = options.namespace;
  }

  #stub(tenantId: string): DurableObjectStub<PurgeLog> {
    return this.#namespace.get(this.#namespace.idFromName(tenantId));
  }

  #marks(tenantId: string): TenantMarks {
    let marks = this.#tenants.get(tenantId);
    if (!marks) {
      marks = { snapshot: new PurgeSnapshot(), readAt: Number.NEGATIVE_INFINITY, readingUntil: 0 };
      this.#tenants.set(tenantId, marks);
    }
    return marks;
  }

  /** The marks to check this request's entry against (and to stamp what it stores with). */
  async view(tenantId: string, ctx: PurgeViewContext): Promise<PurgeSnapshot> {
    const marks = this.#marks(tenantId);
    const age = ctx.now - marks.readAt;
    if (age >= PURGE_MAX_STALE_MS) await this.#read(tenantId, marks, ctx);
    else if (age >= PURGE_ISOLATE_TTL_MS && Date.now() >= marks.readingUntil) ctx.waitUntil(this.#read(tenantId, marks, ctx));
    return marks.snapshot;
  }

  /** Records a purge in the tenant's log and applies it here at once. */
  async purge(tenantId: string, request: PurgeRequest, now: number): Promise<number> {
    const { seq } = await this.#stub(tenantId).purge(request, now);
    const marks = this.#marks(tenantId);
    // Re-read everything after `have` right away, so this isolate sees its own purge at once.
    await this.#read(tenantId, marks, { now, waitUntil: () => undefined, log: () => undefined });
    return seq;
  }

  async #read(tenantId: string, marks: TenantMarks, ctx: PurgeViewContext): Promise<void> {
    const startedAt = ctx.now;
    marks.readingUntil = Date.now() + PURGE_READ_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const deadline = new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${PURGE_READ_TIMEOUT_MS} ms`)), PURGE_READ_TIMEOUT_MS)),
      );
      const delta = await Promise.race([this.#stub(tenantId).read(marks.snapshot.seq), deadline]);
      marks.snapshot.apply(delta.seq, delta.all, delta.marks);
      marks.readAt = Math.max(marks.readAt, startedAt);
    } catch (error) {
      // Availability over consistency: the marks this isolate has stay in use (logged).
      ctx.log({ event: "purge-read-failed", tenant: tenantId, detail: String(error) });
    } finally {
      clearTimeout(timer);
      marks.readingUntil = 0;
    }
  }
}
