/**
 * A remote JWKS (RFC 7517 §5), cached per isolate. Never fetched per request: once loaded it
 * is refreshed in the background after `JWKS_REFRESH_AHEAD_FRACTION` of its max age; an
 * unknown `kid` (key rotation) triggers at most one refetch per cooldown, so a flood of random
 * kids cannot hammer the identity provider; a failed refresh keeps the last good keys.
 *
 * Requests never await a fetch another request started (Workers forbid sharing I/O across
 * requests): a request that finds the first load in flight polls for its result instead.
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

export class RemoteJwks implements KeyStore {
  readonly #options: RemoteJwksOptions;
  readonly #fetchJson: FetchJson;
  #keys: KeySet | null = null;
  /** Epoch ms of the last successful fetch and of the last attempt (by the injected clock). */
  #fetchedAt = 0;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  /** Real-time deadline of the fetch in flight, if any; a crashed fetch cannot block forever. */
  #inFlightUntil = 0;

  constructor(options: RemoteJwksOptions) {
    this.#options = options;
    this.#fetchJson = options.fetchJson ?? defaultFetchJson;
  }

  async resolve(request: KeyRequest, ctx: KeyContext): Promise<KeyLookup> {
    if (!this.#keys) await this.#firstLoad(ctx);
    const keys = this.#keys;
    if (!keys) return { kind: "unavailable", detail: "JWKS not loaded" };
    this.#refreshAhead(ctx);
    const found = await keys.find(request);
    if (found.kind !== "unknown-kid") return found;
    // Key rotation: a kid we do not know may be new. At most one refetch per cooldown.
    if (!this.#mayFetch(ctx.now)) return found;
    await this.#fetch(ctx);
    return (this.#keys ?? keys).find(request);
  }

  #mayFetch(now: number): boolean {
    return !this.#inFlight() && now - this.#attemptedAt >= this.#options.cooldownSeconds * 1000;
  }

  #inFlight(): boolean {
    return Date.now() < this.#inFlightUntil;
  }

  async #firstLoad(ctx: KeyContext): Promise<void> {
    if (this.#inFlight()) {
      while (this.#inFlight() && !this.#keys) await new Promise((resolve) => setTimeout(resolve, JWKS_WAIT_POLL_MS));
      if (this.#keys) return;
    }
    if (this.#mayFetch(ctx.now)) await this.#fetch(ctx);
  }

  #refreshAhead(ctx: KeyContext): void {
    const dueAt = this.#fetchedAt + this.#options.maxAgeSeconds * 1000 * JWKS_REFRESH_AHEAD_FRACTION;
    if (ctx.now < dueAt || this.#inFlight()) return;
    // A failed refresh is retried once per cooldown, not on every request.
    const lastFailed = this.#attemptedAt > this.#fetchedAt;
    if (lastFailed && !this.#mayFetch(ctx.now)) return;
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
      this.#keys = new KeySet(jwks as JsonWebKey[], this.#keys);
      this.#fetchedAt = ctx.now;
      ctx.log({ event: "jwks-fetched", tenant: this.#options.tenantId, keys: this.#keys.size });
    } catch (error) {
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
