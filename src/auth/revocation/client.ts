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
import {
  REVOCATION_READ_TIMEOUT_MS,
  REVOCATION_RELAY_POLL_MS,
  REVOCATION_RELAY_REFRESH_MS,
  REVOCATION_SEGMENT_TTL_SECONDS,
} from "../../constants";
import { meter } from "../../meter";
import { Relay, type Loaded } from "../../relay";
import type { RevocationPolicy } from "../../tenant/types";
import type { Claims } from "../claims";
import { mergeSubjects, revokedReason, type RevocationEntries, type RevocationSnapshot, type RevokedReason } from "./list";
import type { Manifest, PushResult, RevocationList, RevocationSource } from "./object";
import { SegmentedSet } from "./set";

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
  readonly #cache: () => Promise<Cache>;
  readonly #log: (event: Record<string, unknown>) => void;
  /** Parts held, by id: the jti segments, and the subjects. */
  #segments = new Map<string, BigUint64Array>();
  #subjects: { readonly id: string; readonly map: ReadonlyMap<string, number> } | null = null;
  /** Parts of the object read just made, for the `apply` that follows it. */
  #incoming: Readonly<Record<string, Uint8Array>> | null = null;

  constructor(options: RevocationClientOptions) {
    this.#tenantId = options.tenantId;
    this.#policy = options.policy;
    this.#namespace = options.namespace;
    this.#cache = options.cache;
    this.#log = options.log;
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

  /**
   * One object read: nothing when the version held is current; else the manifest, and the parts
   * this isolate does not hold (all of them when `full`), which go to the data center's cache
   * before the relay writes the manifest (its body), so a manifest never names an unwritten part.
   */
  async #load(now: number, full: boolean): Promise<Loaded> {
    const have = full ? null : (this.#relay.version ?? null);
    const holding = full ? [] : [...this.#segments.keys(), ...(this.#subjects ? [this.#subjects.id] : [])];
    const result = await this.#stub().read({ source: this.#source, now, have: have === "" ? null : have, holding });
    const meta: ListMeta = { fetchedAt: result.fetchedAt };
    if (result.version === null) return { v: "", meta, body: null };
    if (!result.manifest) return { v: result.version, meta, body: null };
    const parts = result.parts ?? {};
    await this.#writeParts(parts);
    this.#incoming = parts;
    return { v: result.version, meta, body: new TextEncoder().encode(JSON.stringify(result.manifest)).buffer as ArrayBuffer };
  }

  /**
   * Whether a copy must not replace the list held: one the publisher confirmed less recently than
   * the held one, or never (`fetchedAt` null: an object started again after eviction whose first
   * feed fetch failed has no list, or only pushes). Taking it would drop every revoked id at once
   * (or deny every token, with `onStale: "deny"`); keeping the held list is what its own age
   * allows — it still ages towards `maxStaleSeconds` and is replaced once the publisher confirms a
   * list again. Pushes this isolate handled stay enforced (`#local`); another isolate's push waits
   * for the object's next confirmed version.
   */
  #keepsHeld(fetchedAt: number | null): boolean {
    const held = this.#snapshot?.fetchedAt ?? null;
    if (held === null || (fetchedAt !== null && fetchedAt >= held)) return false;
    this.#log({ event: "revocation-copy-kept", tenant: this.#tenantId, heldFetchedAt: held, copyFetchedAt: fetchedAt });
    return true;
  }

  /**
   * Takes a version: the parts its manifest names that this isolate lacks come from the object
   * read just made, or from the data center's cache; false when one is missing there (the
   * relay then reads the object in full). Parts are checked against their SHA-256 names.
   */
  async #apply(copy: Loaded): Promise<boolean> {
    const { fetchedAt } = copy.meta as ListMeta;
    const incoming = this.#incoming;
    this.#incoming = null;
    if (this.#keepsHeld(fetchedAt)) return true;
    if (copy.v === "") {
      this.#snapshot = { version: "", fetchedAt, jti: SegmentedSet.EMPTY, sub: new Map() };
      this.#segments = new Map();
      this.#subjects = null;
      return true;
    }
    if (copy.body === null) {
      if (this.#snapshot) this.#snapshot = { ...this.#snapshot, fetchedAt };
      return true;
    }
    const manifest = JSON.parse(new TextDecoder().decode(copy.body)) as Manifest;
    const wanted = [...new Set([...manifest.segments, manifest.sub])];
    const missing = wanted.filter((id) => !this.#segments.has(id) && this.#subjects?.id !== id);
    const fetched = new Map<string, Uint8Array>();
    let bytes = 0;
    for (let i = 0; i < missing.length; i += PART_READ_CONCURRENCY) {
      const batch = missing.slice(i, i + PART_READ_CONCURRENCY);
      const found = await Promise.all(batch.map((id) => (incoming?.[id] ? Promise.resolve(incoming[id]) : this.#readPart(id))));
      for (const [k, part] of found.entries()) {
        const id = batch[k] as string;
        if (!part || (await partId(part)) !== id) return false;
        fetched.set(id, part);
        bytes += part.byteLength;
      }
    }
    const segments = new Map<string, BigUint64Array>();
    for (const id of manifest.segments) {
      const held = this.#segments.get(id);
      if (held) segments.set(id, held);
      else segments.set(id, toFingerprints(fetched.get(id) as Uint8Array));
    }
    const subPart = fetched.get(manifest.sub);
    const subjects =
      subPart !== undefined || this.#subjects?.id !== manifest.sub
        ? { id: manifest.sub, map: new Map(JSON.parse(new TextDecoder().decode(subPart)) as [string, number][]) }
        : this.#subjects;
    this.#segments = segments;
    this.#subjects = subjects;
    const jti = new SegmentedSet(
      manifest.bits,
      manifest.segments.map((id) => segments.get(id) as BigUint64Array),
    );
    const snapshot: RevocationSnapshot = { version: copy.v, fetchedAt, jti, sub: subjects.map };
    this.#snapshot = snapshot;
    this.#log({
      event: "revocation-list-updated",
      tenant: this.#tenantId,
      jti: jti.size,
      sub: subjects.map.size,
      parts: fetched.size,
      bytes,
      from: incoming ? "object" : "relay",
    });
    // Drop the local overlay once the object's list carries it (a read that started before
    // the push may not).
    for (const id of this.#local.jti) if (snapshot.jti.has(id)) this.#local.jti.delete(id);
    for (const [name, at] of this.#local.sub) if ((snapshot.sub.get(name) ?? Number.NEGATIVE_INFINITY) >= at) this.#local.sub.delete(name);
    return true;
  }

  #partUrl(id: string): string {
    return `${PART_ORIGIN}${encodeURIComponent(this.#tenantId)}/${id}`;
  }

  async #readPart(id: string): Promise<Uint8Array | null> {
    const cache = await this.#cache();
    meter("cacheRead");
    const stored = await cache.match(this.#partUrl(id));
    return stored ? new Uint8Array(await stored.arrayBuffer()) : null;
  }

  async #writeParts(parts: Readonly<Record<string, Uint8Array>>): Promise<void> {
    const cache = await this.#cache();
    const entries = Object.entries(parts);
    for (let i = 0; i < entries.length; i += PART_READ_CONCURRENCY) {
      await Promise.all(
        entries.slice(i, i + PART_READ_CONCURRENCY).map(([id, bytes]) => {
          meter("cacheWrite");
          const headers = { "cache-control": `max-age=${REVOCATION_SEGMENT_TTL_SECONDS}` };
          return cache.put(this.#partUrl(id), new Response(bytes, { headers }));
        }),
      );
    }
  }
}

/** Where parts live in the data center's cache: a host no tenant can reach, by tenant and SHA-256 name. */
const PART_ORIGIN = "https://relay.brim.invalid/revocation-part/";
/** Cache API reads or writes of parts in flight at once. */
const PART_READ_CONCURRENCY = 32;

/** A segment's bytes as fingerprints (a copy when not 8-byte aligned). */
function toFingerprints(bytes: Uint8Array): BigUint64Array {
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  return new BigUint64Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 8);
}

/** The name of a part: the first 128 bits of its SHA-256, in hex (as the object names it). */
async function partId(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let hex = "";
  for (let i = 0; i < 16; i++) hex += (hash[i] as number).toString(16).padStart(2, "0");
  return hex;
}
