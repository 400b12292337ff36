/**
 * The isolate's view of a tenant's revocation list. It reaches the isolate through its data
 * center's relay (src/relay.ts): the isolate re-reads the relay copy (one Cache API read) at most
 * every REVOCATION_RELAY_POLL_MS, in the background, and the one isolate per data center holding
 * the lease refreshes that copy from the tenant's `RevocationList` object once it is
 * REVOCATION_RELAY_REFRESH_MS old. Only a cold isolate, holding no list yet, waits (for the relay,
 * or the object if the relay has none). Unchanged lists cost no transfer (versions are compared).
 * Staleness is judged from when the publisher last confirmed the list, not when this isolate
 * read it, so a publisher outage is seen everywhere alike.
 */
import { REVOCATION_READ_TIMEOUT_MS, REVOCATION_RELAY_POLL_MS, REVOCATION_RELAY_REFRESH_MS } from "../../constants";
import { meter } from "../../meter";
import { Relay, type Loaded } from "../../relay";
import type { RevocationPolicy } from "../../tenant/types";
import type { Claims } from "../claims";
import { mergeSubjects, revokedReason, type RevocationEntries, type RevocationSnapshot, type RevokedReason } from "./list";
import type { PushResult, RevocationList, RevocationSource } from "./object";
import { FingerprintSet } from "./set";

export interface RevocationContext {
  /** Epoch ms (the injected clock). */
  readonly now: number;
  readonly waitUntil: (promise: Promise<unknown>) => void;
  readonly log: (event: Record<string, unknown>) => void;
}

export type RevocationCheck =
  | { readonly kind: "ok"; readonly stale: boolean }
  | { readonly kind: "revoked"; readonly reason: RevokedReason }
  /** Older than maxStaleSeconds (or none at all) and onStale is "deny". */
  | { readonly kind: "stale"; readonly ageSeconds: number | null };

/** Options of `RevocationClient`. */
export interface RevocationClientOptions {
  readonly tenantId: string;
  /** The tenant's `auth.issuer`: the published feed must name it in `iss`. */
  readonly issuer: string;
  readonly policy: RevocationPolicy;
  readonly namespace: DurableObjectNamespace<RevocationList>;
  /** The data center's cache, where the relay copy lives. */
  readonly cache: () => Promise<Cache>;
  readonly log: (event: Record<string, unknown>) => void;
}

/** A list as the health endpoint reports it (epoch ms by the injected clock; null: never). */
export interface RevocationStatus {
  readonly url: string;
  /** The list version held; null before the first read ("" : the publisher has none yet). */
  readonly version: string | null;
  /** When the publisher last confirmed the list, and how long ago (what `maxStaleSeconds` is judged on). */
  readonly fetchedAt: number | null;
  readonly ageMs: number | null;
  readonly stale: boolean;
  /** When this isolate last read the list from its object or the relay, and last looked at the relay. */
  readonly readAt: number | null;
  readonly checkedAt: number | null;
  readonly entries: { readonly jti: number; readonly sub: number };
}

/** Relay meta: when the publisher last confirmed the list. */
interface ListMeta {
  readonly fetchedAt: number | null;
}

export class RevocationClient {
  readonly #tenantId: string;
  readonly #policy: RevocationPolicy;
  readonly #namespace: DurableObjectNamespace<RevocationList>;
  readonly #source: RevocationSource;
  #snapshot: RevocationSnapshot | null = null;
  /** Pushes handled by this isolate, enforced here before the object's next version arrives. */
  #local: { jti: Set<string>; sub: Map<string, number> } = { jti: new Set(), sub: new Map() };
  readonly #relay: Relay;

  constructor(options: RevocationClientOptions) {
    this.#tenantId = options.tenantId;
    this.#policy = options.policy;
    this.#namespace = options.namespace;
    this.#source = {
      url: options.policy.url,
      refreshSeconds: options.policy.refreshSeconds,
      issuer: options.issuer,
      tenantId: options.tenantId,
    };
    this.#relay = new Relay({
      name: `revocation/${options.tenantId}\n${options.policy.url}`,
      cache: options.cache,
      timing: {
        pollMs: REVOCATION_RELAY_POLL_MS,
        refreshMs: REVOCATION_RELAY_REFRESH_MS,
        maxStaleMs: Number.POSITIVE_INFINITY,
        readTimeoutMs: REVOCATION_READ_TIMEOUT_MS,
      },
      kind: "revocation",
      log: options.log,
      load: (now, full) => this.#load(now, full),
      apply: (copy) => this.#apply(copy),
      bodyless: (v) => v === "",
    });
  }

  /** The object for this tenant and list URL: tenant id and URL only, never a token. */
  #stub(): DurableObjectStub<RevocationList> {
    return this.#namespace.get(this.#namespace.idFromName(`${this.#tenantId}\n${this.#policy.url}`));
  }

  /** Whether the verified token is revoked, or the list too old to trust. */
  async check(claims: Claims, ctx: RevocationContext): Promise<RevocationCheck> {
    await this.#relay.ensure(ctx);
    const snapshot = this.#snapshot;
    const local = revokedReason(this.#local, claims);
    if (local) return { kind: "revoked", reason: local };
    const reason = snapshot ? revokedReason(snapshot, claims) : null;
    if (reason) return { kind: "revoked", reason };
    const fetchedAt = snapshot?.fetchedAt ?? null;
    const ageSeconds = fetchedAt === null ? null : Math.max(0, (ctx.now - fetchedAt) / 1000);
    const stale = ageSeconds === null || ageSeconds > this.#policy.maxStaleSeconds;
    if (!stale) return { kind: "ok", stale: false };
    if (this.#policy.onStale === "deny") return { kind: "stale", ageSeconds };
    ctx.log({ event: "revocation-stale-allowed", tenant: this.#tenantId, ageSeconds });
    return { kind: "ok", stale: true };
  }

  /** Read only by the health endpoint; `now` is epoch ms (injected clock). */
  status(now: number): RevocationStatus {
    const snapshot = this.#snapshot;
    const fetchedAt = snapshot?.fetchedAt ?? null;
    const ageMs = fetchedAt === null ? null : Math.max(0, now - fetchedAt);
    const relay = this.#relay.status();
    return {
      url: this.#policy.url,
      version: relay.version,
      fetchedAt,
      ageMs,
      stale: ageMs === null || ageMs > this.#policy.maxStaleSeconds * 1000,
      readAt: relay.readAt,
      checkedAt: relay.checkedAt,
      entries: { jti: (snapshot?.jti.size ?? 0) + this.#local.jti.size, sub: (snapshot?.sub.size ?? 0) + this.#local.sub.size },
    };
  }

  /** Sends a push to the object and enforces it in this isolate at once. */
  async push(entries: RevocationEntries, now: number): Promise<PushResult> {
    meter("revocation");
    const result = await this.#stub().push({ source: this.#source, now, entries });
    if (result.ok) {
      for (const id of entries.jti) this.#local.jti.add(id);
      mergeSubjects(this.#local.sub, entries.sub);
      // Read the merged version now and hand it to the data center's relay.
      await this.#relay.reload(now).catch(() => undefined);
    }
    return result;
  }

  /** One object read; the list's bytes only when its version is not the one held (or `full`). */
  async #load(now: number, full: boolean): Promise<Loaded> {
    const have = full ? null : (this.#relay.version ?? null);
    const result = await this.#stub().read({ source: this.#source, now, have: have === "" ? null : have });
    const meta: ListMeta = { fetchedAt: result.fetchedAt };
    if (result.version === null) return { v: "", meta, body: null };
    return { v: result.version, meta, body: result.data ? encodeList(result.data) : null };
  }

  #apply(copy: Loaded): void {
    const { fetchedAt } = copy.meta as ListMeta;
    if (copy.v === "") {
      this.#snapshot = { version: "", fetchedAt, jti: FingerprintSet.EMPTY, sub: new Map() };
      return;
    }
    if (copy.body === null) {
      if (this.#snapshot) this.#snapshot = { ...this.#snapshot, fetchedAt };
      return;
    }
    const data = decodeList(copy.body);
    this.#snapshot = { version: copy.v, fetchedAt, jti: FingerprintSet.fromSorted(data.jti), sub: new Map(Object.entries(data.sub)) };
    // Drop the local overlay once the object's list carries it (a read that started before
    // the push may not).
    const snapshot = this.#snapshot;
    if (!snapshot) return;
    for (const id of this.#local.jti) if (snapshot.jti.has(id)) this.#local.jti.delete(id);
    for (const [name, at] of this.#local.sub) if ((snapshot.sub.get(name) ?? Number.NEGATIVE_INFINITY) >= at) this.#local.sub.delete(name);
  }
}

/** Relay body: u32 length of the subjects' JSON, the JSON, zero padding to 8 bytes, the sorted fingerprints. */
function encodeList(data: { readonly jti: BigUint64Array; readonly sub: Record<string, number> }): ArrayBuffer {
  const sub = new TextEncoder().encode(JSON.stringify(data.sub));
  const offset = Math.ceil((4 + sub.length) / 8) * 8;
  const bytes = new Uint8Array(offset + data.jti.byteLength);
  new DataView(bytes.buffer).setUint32(0, sub.length, true);
  bytes.set(sub, 4);
  bytes.set(new Uint8Array(data.jti.buffer, data.jti.byteOffset, data.jti.byteLength), offset);
  return bytes.buffer;
}

function decodeList(body: ArrayBuffer): { jti: BigUint64Array; sub: Record<string, number> } {
  const length = new DataView(body).getUint32(0, true);
  const sub = JSON.parse(new TextDecoder().decode(new Uint8Array(body, 4, length))) as Record<string, number>;
  const offset = Math.ceil((4 + length) / 8) * 8;
  return { jti: new BigUint64Array(body, offset, (body.byteLength - offset) / 8), sub };
}
