/**
 * A per-data-center relay of one Durable Object's state (purge marks, revocation lists). The
 * Cache API is local to a data center, so it is the data center's shared memory: one isolate
 * (the one that takes a short lease) reads the object and writes the state there, every other
 * isolate reads that copy (a Cache API read, never an object call), in the background.
 *
 * Entries under a synthetic host no tenant can reach (`relay.brim.invalid`):
 * - head `…/<name>`: `{ v, at, meta, body }`, small, rewritten on every refresh;
 * - body `…/<name>/v/<v>`: the state at version `v`, immutable, written once per version, so
 *   an unchanged state is never transferred again (isolates compare `v` with what they hold);
 * - lease `…/<name>/lease`: `{ until }`. The Cache API has no compare-and-set, so the lease is
 *   best-effort: isolates that look within the same few milliseconds may both read the object.
 *
 * Ages are judged on the injected clock from `at` (when the object read that produced the copy
 * started), never from Cache API expiry, so a copy's age is the age of its data wherever it went.
 * Shared by src/purge/ and src/auth/ (features that may not import each other), like meter.ts:
 * it knows nothing of either.
 */
import { RELAY_BACKOFF_MAX_MS, RELAY_BACKOFF_MIN_MS, RELAY_BODY_TTL_SECONDS, RELAY_HEAD_TTL_SECONDS } from "./constants";
import { meter, type ObjectKind } from "./meter";

/** One object read, as the relay stores it. */
export interface Loaded {
  /** Version of the state ("" allowed). */
  readonly v: string;
  /** Small JSON data that may change without a new version (e.g. when a list was last confirmed). */
  readonly meta: unknown;
  /** The state's bytes; null when `v` is the version the client already holds, or has no body. */
  readonly body: ArrayBuffer | null;
}

export interface RelayTiming {
  /** An isolate re-reads the relay copy at most this often, in the background. */
  readonly pollMs: number;
  /** The relay copy is refreshed from the object once this old (by the lease holder). */
  readonly refreshMs: number;
  /**
   * Data older than this is never used: the request waits for one relay read, and for one object
   * read only when the relay has nothing younger. Infinity: only a cold isolate waits.
   */
  readonly maxStaleMs: number;
  /** Bound on one object read; also how long the lease is held. */
  readonly readTimeoutMs: number;
}

export interface RelayContext {
  /** Epoch ms (the injected clock). */
  readonly now: number;
  readonly waitUntil: (promise: Promise<unknown>) => void;
}

/** Options of `Relay`. */
export interface RelayOptions {
  /** What is relayed, for URLs and logs: e.g. `purge/<tenant>`. Never a secret. */
  readonly name: string;
  /** The data center's cache (default in the app: `caches.default`). */
  readonly cache: () => Promise<Cache>;
  readonly timing: RelayTiming;
  /** Counted as one Durable Object call of this kind per `load`. */
  readonly kind: ObjectKind;
  /**
   * One object read. The client knows what it holds and may return `body: null` when unchanged,
   * unless `full` (the relay lacks the body of that version, so it must be written again).
   */
  readonly load: (now: number, full: boolean) => Promise<Loaded>;
  /**
   * Takes a copy (from the object or the relay). `body` null: same version as held, or none.
   * May be async and return false when the body names data the relay no longer has (a client
   * whose body is a manifest of separately relayed parts): then the copy is not taken, and the
   * next object read is `full`.
   */
  readonly apply: (copy: Loaded) => void | boolean | Promise<void | boolean>;
  /** Versions that have no body at all (an empty list). */
  readonly bodyless?: (v: string) => boolean;
  /**
   * Cache API lifetime of the head (default RELAY_HEAD_TTL_SECONDS). Longer keeps a stale copy
   * for when the object is down; only for clients that judge a stale copy safer than none.
   */
  readonly headTtlSeconds?: number;
  readonly log: (event: Record<string, unknown>) => void;
}

interface Head {
  readonly v: string;
  readonly at: number;
  readonly meta: unknown;
}

interface Lease {
  /** When it was taken: the head it replaces is older. */
  readonly at: number;
  readonly until: number;
  /** Left by a failed read: the data center waits until `until` (the failing isolate's back-off). */
  readonly failed?: boolean;
}

const ORIGIN = "https://relay.brim.invalid/";

/** One relayed state in one isolate: what it holds, when its data was read, and its back-off. */
export class Relay {
  readonly #o: RelayOptions;
  readonly #headUrl: string;
  /** Version held; null until the first copy (a cold isolate). */
  #v: string | null = null;
  /** When the object read behind the data held started (injected clock). */
  #at = Number.NEGATIVE_INFINITY;
  /** When this isolate last looked at the relay (injected clock). */
  #checkedAt = Number.NEGATIVE_INFINITY;
  /** Real-time deadline of the sync in flight; never shared as a promise across requests. */
  #busyUntil = 0;
  /** No object read before this (injected clock), after a failure. */
  #retryAt = Number.NEGATIVE_INFINITY;
  #backoffMs = 0;
  /** The relay named a body it no longer has: the next object read returns the whole state. */
  #full = false;

  constructor(options: RelayOptions) {
    this.#o = options;
    this.#headUrl = `${ORIGIN}${options.name.split("/").map(encodeURIComponent).join("/")}`;
  }

  /** The version held (null: nothing yet). */
  get version(): string | null {
    return this.#v;
  }

  /** For the health endpoint (epoch ms, injected clock; null: never): when the data held was read from its object, when this isolate last looked at the relay. */
  status(): { readonly version: string | null; readonly readAt: number | null; readonly checkedAt: number | null } {
    const time = (t: number) => (Number.isFinite(t) ? t : null);
    return { version: this.#v, readAt: time(this.#at), checkedAt: time(this.#checkedAt) };
  }

  /**
   * Called by every request before it uses the state. Never waits, except when the data held is
   * older than `maxStaleMs` (or there is none): then one relay read, and one object read only if
   * the relay has nothing young enough (and no back-off is running).
   */
  async ensure(ctx: RelayContext): Promise<void> {
    // Too old (or nothing): wait, even if another request's sync is in flight (I/O cannot be
    // shared across requests).
    if (ctx.now - this.#at >= this.#o.timing.maxStaleMs) await this.#sync(ctx, true);
    else if (ctx.now - this.#checkedAt >= this.#o.timing.pollMs && Date.now() >= this.#busyUntil) {
      this.#checkedAt = ctx.now;
      ctx.waitUntil(this.#sync(ctx, false));
    }
  }

  /** Reads the object now and writes the relay (the isolate that just changed the state). */
  async reload(now: number): Promise<void> {
    await this.#fromObject(now, true);
  }

  async #sync(ctx: RelayContext, waiting: boolean): Promise<void> {
    this.#busyUntil = Date.now() + this.#o.timing.readTimeoutMs;
    try {
      this.#checkedAt = ctx.now;
      const cache = await this.#o.cache();
      const head = await this.#readHead(cache);
      const usable = head !== null && ctx.now - head.at < this.#o.timing.maxStaleMs && (await this.#take(cache, head));
      if (usable && ctx.now - head.at < this.#o.timing.refreshMs) return;
      if (!usable && waiting) {
        // Nothing young enough anywhere in the data center: one object read, which fills the
        // relay, unless this isolate or (a failed lease) the data center is backing off. The
        // older copy is taken first (when newer than what is held): if that read fails or is
        // backed off, stale state is kept instead of none (a newer read replaces it anyway).
        if (head !== null && ctx.now - head.at >= this.#o.timing.maxStaleMs) await this.#take(cache, head);
        if (ctx.now >= this.#retryAt && !(await this.#failedLease(cache, ctx.now))) await this.#fromObject(ctx.now, false);
        return;
      }
      // Due for a refresh: one isolate per data center reads the object, under the lease.
      const refresh = this.#leasedRefresh(cache, ctx.now, head?.at ?? Number.NEGATIVE_INFINITY);
      if (waiting) ctx.waitUntil(refresh);
      else await refresh;
    } catch (error) {
      this.#o.log({ event: "relay-read-failed", relay: this.#o.name, detail: String(error) });
    } finally {
      this.#busyUntil = 0;
    }
  }

  /**
   * A lease is held while its read may still be running (`until`, the read timeout) and only
   * for the head it set out to replace (`at` newer than the head's): a finished refresh frees
   * it, so the next refresh is due REFRESH after the last, not after the lease.
   */
  async #leasedRefresh(cache: Cache, now: number, headAt: number): Promise<void> {
    if (now < this.#retryAt) return;
    const leaseUrl = `${this.#headUrl}/lease`;
    meter("cacheRead");
    const stored = await cache.match(leaseUrl);
    const lease = stored ? ((await stored.json()) as Lease) : null;
    if (lease && lease.until > now && (lease.failed || lease.at > headAt)) return;
    meter("cacheWrite");
    await cache.put(leaseUrl, json({ at: now, until: now + this.#o.timing.readTimeoutMs } satisfies Lease, RELAY_HEAD_TTL_SECONDS));
    await this.#fromObject(now, false);
  }

  /** Whether the data center is backing off: a lease left by a failed object read, still running. */
  async #failedLease(cache: Cache, now: number): Promise<boolean> {
    meter("cacheRead");
    const stored = await cache.match(`${this.#headUrl}/lease`);
    const lease = stored ? ((await stored.json()) as Lease) : null;
    return lease !== null && lease.failed === true && lease.until > now;
  }

  /** Applies the relay's copy if newer than what is held; false when its body is missing. */
  async #take(cache: Cache, head: Head): Promise<boolean> {
    // Older than what is held: nothing to take (equal times with another version: take it).
    if (head.at < this.#at || (head.at === this.#at && head.v === this.#v)) return true;
    let body: ArrayBuffer | null = null;
    if (head.v !== this.#v && !this.#o.bodyless?.(head.v)) {
      meter("cacheRead");
      const stored = await cache.match(this.#bodyUrl(head.v));
      if (!stored) {
        this.#full = true;
        return false;
      }
      body = await stored.arrayBuffer();
    }
    if ((await this.#o.apply({ v: head.v, meta: head.meta, body })) === false) {
      this.#full = true;
      return false;
    }
    this.#v = head.v;
    this.#at = head.at;
    return true;
  }

  async #readHead(cache: Cache): Promise<Head | null> {
    meter("cacheRead");
    const stored = await cache.match(this.#headUrl);
    return stored ? ((await stored.json()) as Head) : null;
  }

  /** One object read (bounded, backed off on failure), applied here and written to the relay. */
  async #fromObject(now: number, rethrow: boolean): Promise<void> {
    const { readTimeoutMs } = this.#o.timing;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let loaded: Loaded;
    try {
      meter(this.#o.kind);
      const deadline = new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${readTimeoutMs} ms`)), readTimeoutMs)),
      );
      loaded = await Promise.race([this.#o.load(now, this.#full), deadline]);
    } catch (error) {
      // Availability over consistency: the state held stays in use; no retry before the back-off ends.
      this.#backoffMs = Math.min(RELAY_BACKOFF_MAX_MS, Math.max(RELAY_BACKOFF_MIN_MS, this.#backoffMs * 2));
      this.#retryAt = now + this.#backoffMs;
      this.#o.log({ event: "relay-object-read-failed", relay: this.#o.name, retryInMs: this.#backoffMs, detail: String(error) });
      // The data center backs off with this isolate: the others see the failed lease.
      await this.#o
        .cache()
        .then((cache) => {
          meter("cacheWrite");
          return cache.put(
            `${this.#headUrl}/lease`,
            json({ at: now, until: now + this.#backoffMs, failed: true } satisfies Lease, RELAY_HEAD_TTL_SECONDS),
          );
        })
        .catch(() => undefined);
      if (rethrow) throw error;
      return;
    } finally {
      clearTimeout(timer);
    }
    this.#backoffMs = 0;
    this.#retryAt = Number.NEGATIVE_INFINITY;
    if (loaded.body !== null) this.#full = false;
    await this.#o.apply(loaded);
    this.#v = loaded.v;
    this.#at = Math.max(this.#at, now);
    const cache = await this.#o.cache();
    // Body first: a head is never visible before the body it names.
    if (loaded.body !== null) {
      meter("cacheWrite");
      await cache.put(
        this.#bodyUrl(loaded.v),
        new Response(loaded.body, { headers: { "cache-control": `max-age=${RELAY_BODY_TTL_SECONDS}` } }),
      );
    }
    meter("cacheWrite");
    const headTtl = this.#o.headTtlSeconds ?? RELAY_HEAD_TTL_SECONDS;
    await cache.put(this.#headUrl, json({ v: loaded.v, at: now, meta: loaded.meta } satisfies Head, headTtl));
  }

  #bodyUrl(v: string): string {
    return `${this.#headUrl}/v/${encodeURIComponent(v)}`;
  }
}

function json(value: unknown, ttlSeconds: number): Response {
  return new Response(JSON.stringify(value), { headers: { "content-type": "application/json", "cache-control": `max-age=${ttlSeconds}` } });
}
