/**
 * Per-isolate cache of verified tokens: a bounded LRU keyed by the token's SHA-256 (the token
 * itself is never kept), each entry ending at the token's `exp` (plus the tenant's skew, the
 * same bound verification applies). A repeated token then costs a hash and a lookup; the
 * revocation check still runs on every request.
 */
import type { Claims } from "./claims";

interface Entry {
  readonly claims: Claims;
  /** Epoch ms after which the token no longer verifies. */
  readonly until: number;
}

export class TokenCache {
  readonly #max: number;
  /** Map iteration order is insertion order: the first key is the least recently used. */
  readonly #entries = new Map<string, Entry>();

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(hash: string, now: number): Claims | null {
    const entry = this.#entries.get(hash);
    if (!entry) return null;
    this.#entries.delete(hash);
    if (now >= entry.until) return null;
    this.#entries.set(hash, entry);
    return entry.claims;
  }

  set(hash: string, claims: Claims, until: number): void {
    this.#entries.delete(hash);
    this.#entries.set(hash, { claims, until });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}
