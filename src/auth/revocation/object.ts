import { DurableObject } from "cloudflare:workers";
import { REVOCATION_FETCH_TIMEOUT_MS, REVOCATION_IDLE_STOP_MS, REVOCATION_MAX_BYTES, REVOCATION_MAX_PUSHED_ENTRIES } from "../../constants";
import { fetchBounded } from "../fetch-bounded";
import { checkFeed, type FeedRejection } from "./feed";
import { mergeSubjects, type RevocationEntries } from "./list";
import { FingerprintSet } from "./set";

/** Which list an object serves; sent by every caller, kept for the alarm. */
export interface RevocationSource {
  readonly url: string;
  readonly refreshSeconds: number;
  /** The tenant's `auth.issuer`: the feed's `iss` must equal it. */
  readonly issuer: string;
  /** For log lines only. */
  readonly tenantId: string;
}

export interface ReadRequest {
  readonly source: RevocationSource;
  /** The caller's clock, epoch ms (Brim's clock is injectable; the object follows it). */
  readonly now: number;
  /** The version the caller holds; the data is left out when it is still current. */
  readonly have: string | null;
}

export interface ReadResult {
  /** null until a list exists (published or pushed). */
  readonly version: string | null;
  /** Last time the publisher confirmed the list (200 or 304), epoch ms; null if never. */
  readonly fetchedAt: number | null;
  /** Present when `version` differs from `have`: sorted fingerprints and subject cut-offs. */
  readonly data?: { readonly jti: BigUint64Array; readonly sub: Record<string, number> };
  /** Feeds rejected by this object instance so far (see `feed.ts`), by reason. */
  readonly feedRejections: Readonly<Partial<Record<FeedRejection, number>>>;
}

export interface PushRequest {
  readonly source: RevocationSource;
  readonly now: number;
  readonly entries: RevocationEntries;
}

export type PushResult = { readonly ok: true; readonly version: string } | { readonly ok: false; readonly detail: string };

interface Merged {
  readonly version: string;
  readonly jti: FingerprintSet;
  readonly sub: Map<string, number>;
}

const SOURCE_KEY = "source";
const PUSHED_KEY = "pushed";
/** Entries (jti + sub) of the last published list accepted: the shrink check's baseline, kept across evictions. */
const PUBLISHED_SIZE_KEY = "published-size";

/**
 * One object per tenant revocation list (named by tenant id and list URL). It fetches the
 * list once per `refreshSeconds` for the whole deployment, on an alarm (and, should the alarm
 * be late, when a reader finds the list due), with `If-None-Match`; isolates read it from
 * here with their own short TTL. Pushed revocations (`POST /__brim/revocations`) are merged in
 * at once and kept in storage until the published list carries them. The published list
 * itself is in memory only: after eviction it is fetched again. A fetched feed that fails
 * `checkFeed` (schema, issuer, a shrink without `allowShrink`) is logged, counted and
 * dropped: the last good list stays, and ages towards `maxStaleSeconds`. The size of the last
 * accepted list is kept in storage, so the shrink check survives eviction.
 */
export class RevocationList extends DurableObject<Env> {
  #source: RevocationSource | null = null;
  #loaded = false;
  #published: { etag: string | null; jti: FingerprintSet; sub: Map<string, number> } | null = null;
  #fetchedAt: number | null = null;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | null = null;
  #pushed: { jti: string[]; sub: Record<string, number> } = { jti: [], sub: {} };
  #merged: Merged | null = null;
  readonly #instance = crypto.randomUUID().slice(0, 8);
  /** Whether this instance knows an alarm is scheduled. */
  #armed = false;
  /** Real time of the last read or push; the alarm stops polling once nobody reads. */
  #usedAt = Date.now();
  #generation = 0;
  /** Entries of the last accepted published list; null before the first one. */
  #publishedSize: number | null = null;
  readonly #rejections: Partial<Record<FeedRejection, number>> = {};

  async read(request: ReadRequest): Promise<ReadResult> {
    await this.#adopt(request.source);
    const refreshMs = request.source.refreshSeconds * 1000;
    const due = this.#fetchedAt === null || request.now - this.#fetchedAt >= refreshMs;
    if (due && request.now - this.#attemptedAt >= refreshMs) await this.#refresh(request.now);
    else if (this.#refreshing && this.#published === null) await this.#refreshing;
    const merged = this.#merged;
    const base = { version: merged?.version ?? null, fetchedAt: this.#fetchedAt, feedRejections: { ...this.#rejections } };
    if (!merged || merged.version === request.have) return base;
    return { ...base, data: { jti: merged.jti.fingerprints, sub: Object.fromEntries(merged.sub) } };
  }

  async push(request: PushRequest): Promise<PushResult> {
    await this.#adopt(request.source);
    const jti = new Set([...this.#pushed.jti, ...request.entries.jti]);
    const sub = Object.fromEntries(mergeSubjects(new Map(Object.entries(this.#pushed.sub)), request.entries.sub));
    if (jti.size + Object.keys(sub).length > REVOCATION_MAX_PUSHED_ENTRIES) {
      return { ok: false, detail: `more than ${REVOCATION_MAX_PUSHED_ENTRIES} pushed entries are waiting for the published list` };
    }
    this.#pushed = { jti: [...jti], sub };
    await this.ctx.storage.put(PUSHED_KEY, this.#pushed);
    this.#rebuild();
    return { ok: true, version: this.#merged?.version ?? "" };
  }

  override async alarm(): Promise<void> {
    await this.#load();
    const source = this.#source;
    if (!source) return;
    // A tenant removed from the config (or idle) must not be polled forever; the next read re-arms.
    if (Date.now() - this.#usedAt > REVOCATION_IDLE_STOP_MS) {
      this.#armed = false;
      return;
    }
    await this.#refresh(Date.now());
    await this.ctx.storage.setAlarm(Date.now() + source.refreshSeconds * 1000);
    this.#armed = true;
  }

  /** Loads storage once, records a changed source, and makes sure the alarm is set. */
  async #adopt(source: RevocationSource): Promise<void> {
    this.#usedAt = Date.now();
    await this.#load();
    const known = this.#source;
    if (
      known?.url !== source.url ||
      known.refreshSeconds !== source.refreshSeconds ||
      known.issuer !== source.issuer ||
      known.tenantId !== source.tenantId
    ) {
      this.#source = { url: source.url, refreshSeconds: source.refreshSeconds, issuer: source.issuer, tenantId: source.tenantId };
      await this.ctx.storage.put(SOURCE_KEY, this.#source);
    }
    if (!this.#armed) {
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + source.refreshSeconds * 1000);
      this.#armed = true;
    }
  }

  async #load(): Promise<void> {
    if (this.#loaded) return;
    this.#loaded = true;
    this.#source ??= (await this.ctx.storage.get<RevocationSource>(SOURCE_KEY)) ?? null;
    this.#pushed = (await this.ctx.storage.get<{ jti: string[]; sub: Record<string, number> }>(PUSHED_KEY)) ?? this.#pushed;
    this.#publishedSize = (await this.ctx.storage.get<number>(PUBLISHED_SIZE_KEY)) ?? null;
    if (this.#pushed.jti.length > 0 || Object.keys(this.#pushed.sub).length > 0) this.#rebuild();
  }

  /** One fetch at a time; concurrent readers inside this object share it. */
  #refresh(now: number): Promise<void> {
    this.#refreshing ??= this.#fetch(now).finally(() => (this.#refreshing = null));
    return this.#refreshing;
  }

  async #fetch(now: number): Promise<void> {
    const source = this.#source;
    if (!source) return;
    this.#attemptedAt = now;
    try {
      const result = await fetchBounded(source.url, {
        timeoutMs: REVOCATION_FETCH_TIMEOUT_MS,
        maxBytes: REVOCATION_MAX_BYTES,
        etag: this.#published?.etag ?? null,
      });
      if (result.status === 304) {
        this.#fetchedAt = now;
        return;
      }
      const verdict = checkFeed(result.text, source.issuer, this.#publishedSize);
      if (!verdict.ok) {
        // Not a confirmation: fetchedAt stays, so a feed that keeps failing ages into onStale.
        const rejections = (this.#rejections[verdict.reason] = (this.#rejections[verdict.reason] ?? 0) + 1);
        log({
          event: "revocation-feed-rejected",
          tenant: source.tenantId,
          url: source.url,
          reason: verdict.reason,
          detail: verdict.detail,
          rejections,
          keptLastGood: this.#published !== null,
        });
        return;
      }
      const entries = verdict.entries;
      this.#published = { etag: result.etag, jti: FingerprintSet.fromIds(entries.jti), sub: mergeSubjects(new Map(), entries.sub) };
      this.#fetchedAt = now;
      if (verdict.size !== this.#publishedSize) {
        this.#publishedSize = verdict.size;
        await this.ctx.storage.put(PUBLISHED_SIZE_KEY, verdict.size);
      }
      await this.#prunePushed();
      this.#rebuild();
      log({ event: "revocation-list-fetched", url: source.url, jti: this.#published.jti.size, sub: this.#published.sub.size });
    } catch (error) {
      log({ event: "revocation-fetch-failed", url: source.url, detail: String(error), keptLastGood: this.#published !== null });
    }
  }

  /** Pushed entries the published list now carries are no longer needed. */
  async #prunePushed(): Promise<void> {
    const published = this.#published;
    if (!published) return;
    const jti = this.#pushed.jti.filter((id) => !published.jti.has(id));
    const sub = Object.fromEntries(
      Object.entries(this.#pushed.sub).filter(([name, at]) => (published.sub.get(name) ?? Number.NEGATIVE_INFINITY) < at),
    );
    if (jti.length === this.#pushed.jti.length && Object.keys(sub).length === Object.keys(this.#pushed.sub).length) return;
    this.#pushed = { jti, sub };
    await this.ctx.storage.put(PUSHED_KEY, this.#pushed);
  }

  #rebuild(): void {
    const base = this.#published;
    this.#merged = {
      version: `${this.#instance}.${++this.#generation}`,
      jti: (base?.jti ?? FingerprintSet.EMPTY).withIds(this.#pushed.jti),
      sub: mergeSubjects(new Map(base?.sub ?? []), this.#pushed.sub),
    };
  }
}

function log(event: Record<string, unknown>): void {
  console.log(JSON.stringify(event));
}
