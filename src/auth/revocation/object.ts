import { DurableObject } from "cloudflare:workers";
import { REVOCATION_FETCH_TIMEOUT_MS, REVOCATION_IDLE_STOP_MS, REVOCATION_MAX_BYTES, REVOCATION_MAX_PUSHED_ENTRIES } from "../../constants";
import { fetchBoundedStream } from "../fetch-bounded";
import { judgeFeed, type FeedRejection } from "./feed";
import { mergeSubjects, type RevocationEntries } from "./list";
import { FingerprintSet, segmentBits } from "./set";
import { FeedParser, type ParseResult } from "./stream";
import { loggedUrl } from "../../http/log-path";

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
  /** The version the caller holds; the manifest is left out when it is still current. */
  readonly have: string | null;
  /** Ids of the parts (segments, subjects) the caller holds: only the others are sent. */
  readonly holding?: readonly string[];
}

/**
 * What a version is made of. The jti set is cut into 2^bits segments by the fingerprints' top
 * bits (`FingerprintSet.segments`); each segment, and the subjects, is a part named by the
 * SHA-256 of its bytes. The version is the SHA-256 of the manifest: the same list has the same
 * version and parts in every object instance, before and after an eviction.
 */
export interface Manifest {
  readonly bits: number;
  /** Part ids of the 2^bits segments, in order. */
  readonly segments: readonly string[];
  /** Part id of the subjects: UTF-8 JSON `[[name, unixSeconds], …]`, sorted by name. */
  readonly sub: string;
  readonly jti: number;
  readonly subjects: number;
}

export interface ReadResult {
  /** null until a list exists (published or pushed). */
  readonly version: string | null;
  /** Last time the publisher confirmed the list (200 or 304), epoch ms; null if never. */
  readonly fetchedAt: number | null;
  /** Present when `version` differs from `have`. */
  readonly manifest?: Manifest;
  /** With the manifest: the bytes of its parts the caller does not hold (segments: little-endian u64 fingerprints). */
  readonly parts?: Readonly<Record<string, Uint8Array>>;
  /** Feeds rejected by this object instance so far (see `feed.ts`), by reason. */
  readonly feedRejections: Readonly<Partial<Record<FeedRejection, number>>>;
}

/** What the object holds, in bytes it computes (the memory bound; tests and bench). */
export interface StoreStats {
  readonly version: string | null;
  readonly jti: number;
  readonly subjects: number;
  /** Fingerprints held: the published list, plus the merged copy while pushes wait. */
  readonly jtiBytes: number;
  /** The subjects' part. */
  readonly subBytes: number;
  /** The last feed read to its end (accepted or not). */
  readonly lastFeed: { readonly bytes: number; readonly chars: number; readonly maxHeldChars: number; readonly listed: number } | null;
}

export interface PushRequest {
  readonly source: RevocationSource;
  readonly now: number;
  readonly entries: RevocationEntries;
}

export type PushResult = { readonly ok: true; readonly version: string } | { readonly ok: false; readonly detail: string };

interface Built {
  readonly version: string;
  readonly manifest: Manifest;
  /** Views into `jti`'s buffer (segments) and the subjects' bytes, by part id. */
  readonly parts: ReadonlyMap<string, Uint8Array>;
  readonly jti: FingerprintSet;
}

const SOURCE_KEY = "source";
const PUSHED_KEY = "pushed";
/** Entries (jti + sub) of the last published list accepted: the shrink check's baseline, kept across evictions. */
const PUBLISHED_SIZE_KEY = "published-size";
const encoder = new TextEncoder();

/**
 * One object per tenant revocation list (named by tenant id and list URL). It fetches the
 * list once per `refreshSeconds` for the whole deployment, on an alarm (and, should the alarm
 * be late, when a reader finds the list due), with `If-None-Match`, and parses it as it streams
 * in (`stream.ts`: 8 bytes per jti kept, the body never held). Pushed revocations
 * (`POST /__brim/revocations`) are merged in at once and kept in storage until the published
 * list carries them. The published list itself is in memory only: after eviction it is fetched
 * again. A fetched feed that fails (schema, issuer, caps, truncation, `count`, a shrink without
 * `allowShrink`) is logged, counted and dropped: the last good list stays, and ages towards
 * `maxStaleSeconds`. The size of the last accepted list is kept in storage, so the shrink check
 * survives eviction.
 *
 * Readers get a version as a `Manifest` of content-addressed parts and only the parts they do
 * not hold (issue #16): a small change costs them one segment (~32 KiB at 10^6 jti), not the
 * set; a reader that holds nothing gets every part. Versions and parts depend on content only,
 * so an object started again after eviction serves the same names for the same list.
 */
export class RevocationList extends DurableObject<Env> {
  #source: RevocationSource | null = null;
  #loaded = false;
  #published: { etag: string | null; jti: FingerprintSet; sub: Map<string, number> } | null = null;
  #fetchedAt: number | null = null;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | null = null;
  #pushed: { jti: string[]; sub: Record<string, number> } = { jti: [], sub: {} };
  #built: Built | null = null;
  /** Builds run one after another (each hashes the parts); the last reflects the last change. */
  #building: Promise<void> = Promise.resolve();
  #lastFeed: StoreStats["lastFeed"] = null;
  /** Whether this instance knows an alarm is scheduled. */
  #armed = false;
  /** Real time of the last read or push; the alarm stops polling once nobody reads. */
  #usedAt = Date.now();
  /** Entries of the last accepted published list; null before the first one. */
  #publishedSize: number | null = null;
  readonly #rejections: Partial<Record<FeedRejection, number>> = {};

  async read(request: ReadRequest): Promise<ReadResult> {
    await this.#adopt(request.source);
    const refreshMs = request.source.refreshSeconds * 1000;
    const due = this.#fetchedAt === null || request.now - this.#fetchedAt >= refreshMs;
    if (due && request.now - this.#attemptedAt >= refreshMs) await this.#refresh(request.now);
    else if (this.#refreshing && this.#published === null) await this.#refreshing;
    await this.#building;
    const built = this.#built;
    const base = { version: built?.version ?? null, fetchedAt: this.#fetchedAt, feedRejections: { ...this.#rejections } };
    if (!built || built.version === request.have) return base;
    const holding = new Set(request.holding ?? []);
    const parts: Record<string, Uint8Array> = {};
    for (const [id, bytes] of built.parts) {
      // A copy: structured clone sends a view's whole buffer (the whole set), not the view.
      if (!holding.has(id)) parts[id] = bytes.slice();
    }
    return { ...base, manifest: built.manifest, parts };
  }

  /** What this object holds (the memory bound, in bytes it computes). */
  async stats(): Promise<StoreStats> {
    await this.#building;
    const built = this.#built;
    const published = this.#published?.jti;
    let jtiBytes = published?.fingerprints.byteLength ?? 0;
    if (built && built.jti !== published) jtiBytes += built.jti.fingerprints.byteLength;
    return {
      version: built?.version ?? null,
      jti: built?.manifest.jti ?? 0,
      subjects: built?.manifest.subjects ?? 0,
      jtiBytes,
      subBytes: built ? (built.parts.get(built.manifest.sub)?.byteLength ?? 0) : 0,
      lastFeed: this.#lastFeed,
    };
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
    await this.#rebuild();
    return { ok: true, version: this.#built?.version ?? "" };
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
    if (this.#pushed.jti.length > 0 || Object.keys(this.#pushed.sub).length > 0) await this.#rebuild();
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
      const parser = new FeedParser(source.issuer);
      // fatal: bytes that are not UTF-8 reject the feed (RFC 8259 §8.1) instead of becoming U+FFFD.
      const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
      let invalid = false;
      const result = await fetchBoundedStream(
        source.url,
        { timeoutMs: REVOCATION_FETCH_TIMEOUT_MS, maxBytes: REVOCATION_MAX_BYTES, etag: this.#published?.etag ?? null },
        (chunk) => {
          try {
            parser.write(decoder.decode(chunk, { stream: true }));
          } catch {
            invalid = true;
          }
          return !invalid && parser.failure === null;
        },
      );
      if (result.status === 304) {
        this.#fetchedAt = now;
        return;
      }
      if (!result.stopped && !invalid) {
        try {
          parser.write(decoder.decode());
        } catch {
          invalid = true;
        }
      }
      const parsed: ParseResult = invalid ? { ok: false, reason: "not-json", detail: "the feed is not UTF-8" } : parser.end();
      const verdict = judgeFeed(parsed, this.#publishedSize);
      this.#lastFeed = { bytes: result.bytes, ...parser.stats, listed: verdict.ok ? verdict.feed.listed : 0 };
      if (!verdict.ok) {
        // Not a confirmation: fetchedAt stays, so a feed that keeps failing ages into onStale.
        const rejections = (this.#rejections[verdict.reason] = (this.#rejections[verdict.reason] ?? 0) + 1);
        log({
          event: "revocation-feed-rejected",
          tenant: source.tenantId,
          url: loggedUrl(source.url),
          reason: verdict.reason,
          detail: verdict.detail,
          bytesRead: result.bytes,
          rejections,
          keptLastGood: this.#published !== null,
        });
        return;
      }
      const feed = verdict.feed;
      this.#published = { etag: result.etag, jti: FingerprintSet.fromSorted(feed.jti), sub: feed.sub };
      this.#fetchedAt = now;
      if (verdict.size !== this.#publishedSize) {
        this.#publishedSize = verdict.size;
        await this.ctx.storage.put(PUBLISHED_SIZE_KEY, verdict.size);
      }
      await this.#prunePushed();
      await this.#rebuild();
      log({
        event: "revocation-list-fetched",
        url: loggedUrl(source.url),
        jti: this.#published.jti.size,
        sub: this.#published.sub.size,
        bytes: result.bytes,
        duplicates: feed.listed - verdict.size,
      });
    } catch (error) {
      log({ event: "revocation-fetch-failed", url: loggedUrl(source.url), detail: String(error), keptLastGood: this.#published !== null });
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

  /** Rebuilds the served version from the published list and the pushes (after the builds before it). */
  #rebuild(): Promise<void> {
    this.#building = this.#building.then(() => this.#build());
    return this.#building;
  }

  async #build(): Promise<void> {
    const base = this.#published;
    if (!base && this.#pushed.jti.length === 0 && Object.keys(this.#pushed.sub).length === 0) return;
    const jti = (base?.jti ?? FingerprintSet.EMPTY).withIds(this.#pushed.jti);
    const sub = mergeSubjects(new Map(base?.sub ?? []), this.#pushed.sub);
    const bits = segmentBits(jti.size);
    const parts = new Map<string, Uint8Array>();
    const segments: string[] = [];
    for (const segment of jti.segments(bits)) {
      const bytes = new Uint8Array(segment.buffer, segment.byteOffset, segment.byteLength);
      const id = await digest(bytes);
      segments.push(id);
      parts.set(id, bytes);
    }
    const subBytes = encoder.encode(JSON.stringify([...sub].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
    const subId = await digest(subBytes);
    parts.set(subId, subBytes);
    const manifest: Manifest = { bits, segments, sub: subId, jti: jti.size, subjects: sub.size };
    this.#built = { version: await digest(encoder.encode(JSON.stringify(manifest))), manifest, parts, jti };
  }
}

/** SHA-256 of `bytes`, the first 128 bits in hex: a part's or a version's name. */
async function digest(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let hex = "";
  for (let i = 0; i < 16; i++) hex += (hash[i] as number).toString(16).padStart(2, "0");
  return hex;
}

function log(event: Record<string, unknown>): void {
  console.log(JSON.stringify(event));
}
