/**
 * Per-isolate cache of verified tokens: a bounded LRU keyed by the token's SHA-256 (the token
 * itself is never kept). An entry never outlives what verified it: it is tied to the key
 * set's generation (a changed JWKS, a rotated secret: the token is verified again, so a
 * removed kid stops admitting it), and ends at the token's `exp` (plus the tenant's skew) or
 * after the key source's max reuse time, whichever is first. A repeated token then costs a
 * hash and a lookup; the revocation check still runs on every request.
 */
import type { Claims } from "./claims";

interface Entry {
  readonly claims: Claims;
  /** Epoch ms after which the entry is not used. */
  readonly until: number;
  /** The key set's generation that verified the token. */
  readonly generation: number;
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

  /** The claims of a token verified under `generation` and not yet ended at `now`, else null. */
  get(hash: string, now: number, generation: number): Claims | null {
    const entry = this.#entries.get(hash);
    if (!entry) return null;
    this.#entries.delete(hash);
    if (now >= entry.until || entry.generation !== generation) return null;
    this.#entries.set(hash, entry);
    return entry.claims;
  }

  set(hash: string, claims: Claims, until: number, generation: number): void {
    this.#entries.delete(hash);
    this.#entries.set(hash, { claims, until, generation });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}
