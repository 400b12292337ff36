import {
  MEMORY_TIER_MAX_BYTES,
  MEMORY_TIER_MAX_ENTRIES,
  MEMORY_TIER_MAX_ENTRY_BYTES,
  MEMORY_TIER_RESIDENCY_MS,
  MEMORY_TIER_VARY_MAX_BYTES,
  MEMORY_TIER_VARY_MAX_KEYS,
} from "../constants";
import type { EntryMeta } from "../http/entry";

/**
 * The in-isolate memory tier: small hot entries as plain data (bytes, status, header fields,
 * metadata), never `Response` objects, which are single-use and tie up runtime resources. A hit
 * rebuilds a fresh `Response` each time. Bounded by entry count and bytes, least recently used
 * out first; every record also expires after `residencyMs` so this isolate re-reads the Cache
 * API (see MEMORY_TIER_RESIDENCY_MS). Correctness never depends on it: src/cache/store.ts
 * returns memory records as ordinary stored entries and the pipeline checks them as any other.
 */

/** Bounds of the memory tier; defaults in src/constants.ts (MEMORY_TIER_*). */
export interface MemoryTierOptions {
  /** Largest body kept, bytes. 0 turns the entry tier off (Vary fields are still remembered). */
  readonly maxEntryBytes: number;
  /** Total bytes of entries (bodies + header fields + keys). */
  readonly maxBytes: number;
  readonly maxEntries: number;
  /** Primary keys whose Vary fields are remembered, and their total bytes. */
  readonly varyMaxKeys: number;
  readonly varyMaxBytes: number;
  /** How long anything held is trusted before the Cache API is read again, ms. */
  readonly residencyMs: number;
}

export const DEFAULT_MEMORY_TIER: MemoryTierOptions = {
  maxEntryBytes: MEMORY_TIER_MAX_ENTRY_BYTES,
  maxBytes: MEMORY_TIER_MAX_BYTES,
  maxEntries: MEMORY_TIER_MAX_ENTRIES,
  varyMaxKeys: MEMORY_TIER_VARY_MAX_KEYS,
  varyMaxBytes: MEMORY_TIER_VARY_MAX_BYTES,
  residencyMs: MEMORY_TIER_RESIDENCY_MS,
};

/** A stored entry as the Cache API holds it (storage-only header fields included), as data. */
export interface MemoryRecord {
  readonly status: number;
  readonly statusText: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
  readonly meta: EntryMeta;
}

/** Rough per-entry overhead (Map slot, objects, metadata), bytes. */
const RECORD_OVERHEAD_BYTES = 512;

/** Bytes a record costs the tier: body, header fields, key (UTF-16), overhead. */
export function recordBytes(key: string, record: MemoryRecord): number {
  let bytes = record.body.byteLength + key.length * 2 + RECORD_OVERHEAD_BYTES;
  for (const [name, value] of record.headers) bytes += name.length + value.length;
  return bytes;
}

interface Slot<V> {
  readonly value: V;
  readonly bytes: number;
  /** Epoch ms after which the slot is gone. */
  readonly until: number;
}

/**
 * A map bounded by entry count and total bytes, least recently used evicted first (a `Map`
 * keeps insertion order; a read re-inserts), with a per-slot expiry.
 */
export class BoundedLru<V> {
  readonly #slots = new Map<string, Slot<V>>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(maxEntries: number, maxBytes: number) {
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
  }

  get size(): number {
    return this.#slots.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(key: string, now: number): V | undefined {
    const slot = this.#slots.get(key);
    if (!slot) return undefined;
    this.#slots.delete(key);
    if (now >= slot.until) {
      this.#bytes -= slot.bytes;
      return undefined;
    }
    this.#slots.set(key, slot);
    return slot.value;
  }

  /** Keeps `value` (replacing any); false (and nothing kept under `key`) when it cannot fit at all. */
  set(key: string, value: V, bytes: number, until: number): boolean {
    this.delete(key);
    if (bytes > this.#maxBytes || this.#maxEntries < 1) return false;
    while (this.#slots.size >= this.#maxEntries || this.#bytes + bytes > this.#maxBytes) {
      const oldest = this.#slots.keys().next().value!;
      this.delete(oldest);
    }
    this.#slots.set(key, { value, bytes, until });
    this.#bytes += bytes;
    return true;
  }

  delete(key: string): void {
    const slot = this.#slots.get(key);
    if (!slot) return;
    this.#slots.delete(key);
    this.#bytes -= slot.bytes;
  }
}
