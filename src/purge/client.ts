/**
 * The isolate's view of each tenant's purge marks. A hit checks the marks this isolate holds
 * (map lookups, no I/O). They reach the isolate through its data center's relay (src/relay.ts):
 * every PURGE_RELAY_POLL_MS an isolate re-reads the relay copy in the background (one Cache API
 * read), and the one isolate per data center holding the lease refreshes that copy from the
 * tenant's `PurgeLog` once it is PURGE_RELAY_REFRESH_MS old. Only a request whose marks were read
 * from the object more than PURGE_MAX_STALE_MS ago (a cold or idle isolate) waits: for one
 * relay read, and for one object read only if the relay has nothing that young. That bounds
 * propagation; read times are the start of the object read, so it holds whatever the latency.
 */
import {
  PURGE_MAX_STALE_MS,
  PURGE_READ_TIMEOUT_MS,
  PURGE_RELAY_HEAD_TTL_SECONDS,
  PURGE_RELAY_POLL_MS,
  PURGE_RELAY_REFRESH_MS,
  PURGE_UNKNOWN_LOG_INTERVAL_MS,
} from "../constants";
import { meter } from "../meter";
import { Relay, type Loaded, type RelayTiming } from "../relay";
import type { PurgeLog, PurgeOutcome } from "./object";
import type { PurgeRequest } from "./request";
import { PurgeSnapshot, type Mark, type MarkRecord, type MarksUpdate } from "./rules";

export interface PurgeViewContext {
  /** Epoch ms (the injected clock). */
  readonly now: number;
  readonly waitUntil: (promise: Promise<unknown>) => void;
  readonly log: (event: Record<string, unknown>) => void;
}

/** Options of `PurgeRegistry`. */
export interface PurgeRegistryOptions {
  /** The `PurgeLog` namespace (one object per tenant id). */
  readonly namespace: DurableObjectNamespace<PurgeLog>;
  /** The data center's cache, where the relay copies live. */
  readonly cache: () => Promise<Cache>;
  readonly log: (event: Record<string, unknown>) => void;
  /** Default: PURGE_RELAY_POLL_MS, PURGE_RELAY_REFRESH_MS, PURGE_MAX_STALE_MS, PURGE_READ_TIMEOUT_MS. */
  readonly timing?: RelayTiming;
}

const TIMING: RelayTiming = {
  pollMs: PURGE_RELAY_POLL_MS,
  refreshMs: PURGE_RELAY_REFRESH_MS,
  maxStaleMs: PURGE_MAX_STALE_MS,
  readTimeoutMs: PURGE_READ_TIMEOUT_MS,
};

interface TenantMarks {
  readonly snapshot: PurgeSnapshot;
  readonly relay: Relay;
  /** When `purge-marks-unknown` was last logged (injected clock). */
  unknownLoggedAt: number;
}

/** What a relay body holds: every mark at `seq` (a full set), and the object's expiry horizon. */
interface MarksBody {
  readonly seq: number;
  readonly all: Mark;
  readonly marks: readonly MarkRecord[];
  readonly horizon: number;
}

/** One per isolate: every tenant's marks. */
export class PurgeRegistry {
  readonly #options: PurgeRegistryOptions;
  readonly #tenants = new Map<string, TenantMarks>();

  constructor(options: PurgeRegistryOptions) {
    this.#options = options;
  }

  #stub(tenantId: string): DurableObjectStub<PurgeLog> {
    const namespace = this.#options.namespace;
    return namespace.get(namespace.idFromName(tenantId));
  }

  #marks(tenantId: string): TenantMarks {
    let marks = this.#tenants.get(tenantId);
    if (!marks) {
      const snapshot = new PurgeSnapshot();
      const relay: Relay = new Relay({
        name: `purge/${tenantId}`,
        cache: this.#options.cache,
        timing: this.#options.timing ?? TIMING,
        kind: "purge",
        // A stale copy stays available while the object is down (PURGE_RELAY_HEAD_TTL_SECONDS).
        headTtlSeconds: PURGE_RELAY_HEAD_TTL_SECONDS,
        log: this.#options.log,
        // Nothing held yet (no copy taken): the whole set, so the relay gets a body.
        load: (now, full) => this.#load(tenantId, snapshot, full || relay.version === null, now),
        apply: (copy) => applyBody(snapshot, copy),
      });
      marks = { snapshot, relay, unknownLoggedAt: Number.NEGATIVE_INFINITY };
      this.#tenants.set(tenantId, marks);
    }
    return marks;
  }

  /**
   * The marks to check this request's entry against (and to stamp what it stores with). When
   * none were ever loaded (object and relay both unavailable) the snapshot's verdicts are
   * "unknown" until a load succeeds: the pipeline validates stored entries with the origin.
   */
  async view(tenantId: string, ctx: PurgeViewContext): Promise<PurgeSnapshot> {
    const marks = this.#marks(tenantId);
    await marks.relay.ensure(ctx);
    if (!marks.snapshot.loaded && ctx.now - marks.unknownLoggedAt >= PURGE_UNKNOWN_LOG_INTERVAL_MS) {
      marks.unknownLoggedAt = ctx.now;
      ctx.log({
        event: "purge-marks-unknown",
        tenant: tenantId,
        detail: "no purge marks loaded: stored entries are validated with the origin",
      });
    }
    return marks.snapshot;
  }

  /**
   * Records a purge in the tenant's log (one object call, however many selectors) and applies it
   * here at once (and to the data center's relay: one more object read).
   */
  async purge(tenantId: string, request: PurgeRequest, now: number): Promise<PurgeOutcome> {
    meter("purge");
    const outcome = await this.#stub(tenantId).purge(request, now);
    try {
      await this.#marks(tenantId).relay.reload(now);
    } catch (error) {
      // Durable already; other isolates get it through the relay. Logged by the relay.
      this.#options.log({ event: "purge-reload-failed", tenant: tenantId, detail: String(error) });
    }
    return outcome;
  }

  /** Marks changed since what this isolate holds; the whole set (for the relay) when they changed. */
  async #load(tenantId: string, snapshot: PurgeSnapshot, full: boolean, now: number): Promise<Loaded> {
    const held = snapshot.seq;
    // A delta since what is held; the object sends everything instead when this isolate is
    // behind a mark it removed (expired or folded), so what is held never keeps those forever.
    const delta = await this.#stub(tenantId).read(full ? 0 : held, now);
    if (!full && delta.seq === held && delta.marks.length === 0) {
      snapshot.apply(delta);
      return { v: String(delta.seq), meta: null, body: null };
    }
    // Merge first, then export the merged set: the relay body is everything at delta.seq.
    snapshot.apply(delta);
    return { v: String(delta.seq), meta: null, body: encodeMarks(snapshot) };
  }
}

function encodeMarks(snapshot: PurgeSnapshot): ArrayBuffer {
  const marks: MarkRecord[] = [];
  for (const [name, mark] of snapshot.urls) marks.push({ kind: "url", name, mark });
  for (const [name, mark] of snapshot.prefixes) marks.push({ kind: "prefix", name, mark });
  for (const [name, mark] of snapshot.tags) marks.push({ kind: "tag", name, mark });
  const body: MarksBody = { seq: snapshot.seq, all: snapshot.all, marks, horizon: snapshot.horizon };
  return new TextEncoder().encode(JSON.stringify(body)).buffer as ArrayBuffer;
}

function applyBody(snapshot: PurgeSnapshot, copy: Loaded): void {
  if (copy.body === null) return;
  const body = JSON.parse(new TextDecoder().decode(copy.body)) as MarksBody;
  // Everything at body.seq: replaces what is held when at least as new (drops what expired).
  const update: MarksUpdate = { ...body, full: true };
  snapshot.apply(update);
}
