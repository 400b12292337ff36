/**
 * A remote JWKS (RFC 7517 §5), cached per isolate. Not fetched per request: once loaded it is
 * refreshed in the background after `JWKS_REFRESH_AHEAD_FRACTION` of its max age, and a
 * request that finds it past its max age waits (bounded by the fetch timeout) for a refetch,
 * so a key removed from the JWKS stops verifying within `maxAgeSeconds` in every isolate
 * while the JWKS answers. An unknown `kid` (key rotation) triggers at most one refetch per
 * cooldown, so a flood of random kids cannot hammer the identity provider; a token whose kid
 * is unknown while a fetch is in flight waits for that fetch instead of failing. A failed
 * refresh keeps the last good keys. Every change of the keys bumps `generation`.
 *
 * Requests never await a fetch another request started (Workers forbid sharing I/O across
 * requests): a request that finds a fetch in flight polls for its result instead.
 */
import { JWKS_FETCH_TIMEOUT_MS, JWKS_MAX_BYTES, JWKS_REFRESH_AHEAD_FRACTION, JWKS_WAIT_POLL_MS } from "../constants";
import { fetchBounded } from "./fetch-bounded";
import { KeySet, type KeyLookup, type KeyRequest } from "./key-set";
import type { KeyContext, KeyStore } from "./keys";

/** Fetches and parses a JWKS document; injectable for tests. */
export type FetchJson = (url: string) => Promise<unknown>;

export interface RemoteJwksOptions {
  readonly tenantId: string;
  readonly url: string;
  readonly maxAgeSeconds: number;
  readonly cooldownSeconds: number;
  /** Default: `fetchBounded` with `JWKS_FETCH_TIMEOUT_MS` and `JWKS_MAX_BYTES`, then JSON.parse. */
  readonly fetchJson?: FetchJson;
}

/**
 * A JWKS as the health endpoint reports it (src/admin/health.ts). `fresh`: loaded and younger
 * than its max age; `stale`: loaded but past its max age (the next request refetches);
 * `failing`: the last fetch failed (the last good keys, if any, stay in use); `unloaded`: no
 * request has needed it yet in this isolate.
 */
export interface JwksStatus {
  readonly state: "fresh" | "stale" | "failing" | "unloaded";
  /** Since the last successful fetch (ms, injected clock); null before the first. */
  readonly ageMs: number | null;
  readonly keys: number;
  readonly generation: number;
  /** The last failed fetch (epoch ms) and why; null when the last attempt succeeded. */
  readonly lastError: { readonly at: number; readonly detail: string } | null;
}

export class RemoteJwks implements KeyStore {
  readonly #options: RemoteJwksOptions;
  readonly #fetchJson: FetchJson;
  #keys: KeySet | null = null;
  #generation = 0;
  /** Epoch ms of the last successful fetch and of the last attempt (by the injected clock). */
  #fetchedAt = 0;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  /** Real-time deadline of the fetch in flight, if any; a crashed fetch cannot block forever. */
  #inFlightUntil = 0;
  /** Why the last attempt failed (for `status` only). */
  #lastError: string | null = null;

  constructor(options: RemoteJwksOptions) {
    this.#options = options;
    this.#fetchJson = options.fetchJson ?? defaultFetchJson;
  }

  /** Read only by the health endpoint; `now` is epoch ms (injected clock). */
  status(now: number): JwksStatus {
    const loaded = this.#keys !== null;
    const failing = this.#lastFailed() && this.#lastError !== null;
    const ageMs = loaded ? Math.max(0, now - this.#fetchedAt) : null;
    const state = failing ? "failing" : !loaded ? "unloaded" : ageMs! >= this.#options.maxAgeSeconds * 1000 ? "stale" : "fresh";
    return {
      state,
      ageMs,
      keys: this.#keys?.size ?? 0,
      generation: this.#generation,
      lastError: failing ? { at: this.#attemptedAt, detail: this.#lastError! } : null,
    };
  }

  get maxReuseSeconds(): number {
    return this.#options.maxAgeSeconds;
  }

  async generation(ctx: KeyContext): Promise<number> {
    await this.#upToDate(ctx);
    return this.#generation;
  }

  async resolve(request: KeyRequest, ctx: KeyContext): Promise<KeyLookup> {
    await this.#upToDate(ctx);
    const keys = this.#keys;
    if (!keys) return { kind: "unavailable", detail: "JWKS not loaded" };
    const found = await keys.find(request);
    if (found.kind !== "unknown-kid") return found;
    // Key rotation: a kid we do not know may be new. A fetch already in flight may bring it:
    // wait for that one (bounded by its deadline) rather than answer 401 meanwhile.
    if (this.#inFlight()) {
      await this.#whileInFlight();
      return (this.#keys ?? keys).find(request);
    }
    // Otherwise at most one refetch per cooldown.
    if (!this.#mayFetch(ctx.now)) return found;
    await this.#fetch(ctx);
    return (this.#keys ?? keys).find(request);
  }

  /**
   * First load; past the max age, a refetch this request waits for (at most one attempt per
   * cooldown; a failure keeps the last good keys); past the refresh point, a background one.
   */
  async #upToDate(ctx: KeyContext): Promise<void> {
    if (!this.#keys) return this.#firstLoad(ctx);
    if (ctx.now - this.#fetchedAt < this.#options.maxAgeSeconds * 1000) return this.#refreshAhead(ctx);
    if (this.#inFlight()) return this.#whileInFlight();
    // A failed refresh is retried once per cooldown, not on every request.
    if (!this.#lastFailed() || this.#mayFetch(ctx.now)) await this.#fetch(ctx);
  }

  #lastFailed(): boolean {
    return this.#attemptedAt > this.#fetchedAt;
  }

  /** Polls until the fetch in flight ends; bounded by its deadline (`#inFlightUntil`). */
  async #whileInFlight(): Promise<void> {
    while (this.#inFlight()) await new Promise((resolve) => setTimeout(resolve, JWKS_WAIT_POLL_MS));
  }

  #mayFetch(now: number): boolean {
    return !this.#inFlight() && now - this.#attemptedAt >= this.#options.cooldownSeconds * 1000;
  }

  #inFlight(): boolean {
    return Date.now() < this.#inFlightUntil;
  }

  async #firstLoad(ctx: KeyContext): Promise<void> {
    if (this.#inFlight()) {
      await this.#whileInFlight();
      if (this.#keys) return;
    }
    if (this.#mayFetch(ctx.now)) await this.#fetch(ctx);
  }

  #refreshAhead(ctx: KeyContext): void {
    const dueAt = this.#fetchedAt + this.#options.maxAgeSeconds * 1000 * JWKS_REFRESH_AHEAD_FRACTION;
    if (ctx.now < dueAt || this.#inFlight()) return;
    // A failed refresh is retried once per cooldown, not on every request.
    if (this.#lastFailed() && !this.#mayFetch(ctx.now)) return;
    ctx.waitUntil(this.#fetch(ctx));
  }

  async #fetch(ctx: KeyContext): Promise<void> {
    this.#attemptedAt = ctx.now;
    this.#inFlightUntil = Date.now() + JWKS_FETCH_TIMEOUT_MS + 1_000;
    try {
      const document = await this.#fetchJson(this.#options.url);
      const jwks = (document as { keys?: unknown } | null)?.keys;
      if (!Array.isArray(jwks) || !jwks.every((k) => typeof k === "object" && k !== null && !Array.isArray(k))) {
        throw new Error('expected { "keys": [JWK, ...] }');
      }
      const previous = this.#keys;
      this.#keys = new KeySet(jwks as JsonWebKey[], previous);
      if (previous?.digest !== this.#keys.digest) this.#generation++;
      this.#fetchedAt = ctx.now;
      this.#lastError = null;
      ctx.log({ event: "jwks-fetched", tenant: this.#options.tenantId, keys: this.#keys.size, generation: this.#generation });
    } catch (error) {
      this.#lastError = String(error);
      ctx.log({ event: "jwks-fetch-failed", tenant: this.#options.tenantId, detail: String(error), keptLastGood: this.#keys !== null });
    } finally {
      this.#inFlightUntil = 0;
    }
  }
}

async function defaultFetchJson(url: string): Promise<unknown> {
  const result = await fetchBounded(url, { timeoutMs: JWKS_FETCH_TIMEOUT_MS, maxBytes: JWKS_MAX_BYTES });
  if (result.status !== 200) throw new Error("unexpected 304");
  return JSON.parse(result.text);
}
