/**
 * Purge generations (pure). Every purge takes the tenant's next sequence number; a mark
 * records, per selector (all, URL, prefix, tag), the last hard and the last soft purge. Every
 * stored entry carries the sequence number its isolate knew when the request began (`gen`), so
 * an entry is purged when a mark that applies to it is newer than `gen`. Comparing numbers
 * needs no clock agreement between isolates, and no entry has to be found or deleted.
 */

/** The last hard and soft purge of one selector; 0 when never. `at` is epoch ms of the last. */
export interface Mark {
  readonly hard: number;
  readonly soft: number;
  readonly at: number;
}

export type MarkKind = "url" | "prefix" | "tag";

/** One mark as sent from the `PurgeLog` object to isolates. */
export interface MarkRecord {
  readonly kind: MarkKind;
  readonly name: string;
  readonly mark: Mark;
}

/** What an entry remembers for purging (stored in its `EntryMeta.purge`, the same shape). */
export interface PurgeStamp {
  /** The tenant's purge sequence number known when the request that stored it began. */
  readonly gen: number;
  /** Normalised path + keyed query: what URL and prefix purges match. */
  readonly url: string;
  /** From the origin's `Cache-Tag` / `Surrogate-Key`. */
  readonly tags?: readonly string[];
}

/**
 * "unknown": the isolate has never loaded the tenant's marks (its PurgeLog and relay copy were
 * both unavailable), so any stored entry may have been purged: validate before serving it.
 */
export type Verdict = "none" | "soft" | "hard" | "unknown";

export const NO_MARK: Mark = Object.freeze({ hard: 0, soft: 0, at: 0 });

/** How an isolate takes marks from the object or the relay (src/purge/object.ts `PurgeDelta`). */
export interface MarksUpdate {
  readonly seq: number;
  readonly all: Mark;
  readonly marks: readonly MarkRecord[];
  /** Marks last purged before this (epoch ms) have expired: dropped here too. */
  readonly horizon?: number;
  /** `marks` is every mark at `seq`: replaces what is held (unless what is held is newer). */
  readonly full?: boolean;
}

/** A tenant's marks as one isolate holds them, indexed for a hit's check. */
export class PurgeSnapshot {
  /** Whether marks were ever taken (from the object or the relay); until then every verdict is "unknown". */
  loaded = false;
  seq = 0;
  all: Mark = NO_MARK;
  readonly urls = new Map<string, Mark>();
  readonly prefixes = new Map<string, Mark>();
  readonly tags = new Map<string, Mark>();
  /** Epoch ms of the newest purge held (`at` of the newest mark), for PURGE_KEPT_BYPASS_MS. */
  lastAt = 0;
  /** Marks older than this were dropped (the object's expiry horizon, epoch ms). */
  horizon = 0;
  /** Distinct prefix lengths, so a check costs one map lookup per length, not per prefix. */
  #prefixLengths: number[] = [];

  /** Marks held, all kinds (per-isolate memory, for tests and operators). */
  get size(): number {
    return this.urls.size + this.prefixes.size + this.tags.size;
  }

  /**
   * Takes marks read from the object (a delta since `seq`, or everything) or the relay
   * (everything at its `seq`). A full set replaces what is held only when it is at least as
   * new: reads may overlap, and an older full set lacks the newest marks.
   */
  apply(update: MarksUpdate): void {
    const { seq, all, marks } = update;
    this.loaded = true;
    if (update.full && seq >= this.seq) {
      this.urls.clear();
      this.prefixes.clear();
      this.tags.clear();
      this.#prefixLengths = [];
    }
    this.seq = Math.max(this.seq, seq);
    this.all = newer(this.all, all);
    this.lastAt = Math.max(this.lastAt, all.at);
    let prefixesChanged = false;
    for (const { kind, name, mark } of marks) {
      const map = kind === "url" ? this.urls : kind === "prefix" ? this.prefixes : this.tags;
      if (kind === "prefix" && !map.has(name)) prefixesChanged = true;
      map.set(name, newer(map.get(name) ?? NO_MARK, mark));
      if (mark.at > this.lastAt) this.lastAt = mark.at;
    }
    if (update.horizon !== undefined && update.horizon > this.horizon) {
      // Rare (the object's expiry moves at most hourly): one pass over what is held.
      this.horizon = update.horizon;
      const before = this.prefixes.size;
      for (const map of [this.urls, this.prefixes, this.tags])
        for (const [name, mark] of map) if (mark.at < update.horizon) map.delete(name);
      if (this.prefixes.size !== before) prefixesChanged = true;
    }
    if (prefixesChanged) this.#prefixLengths = [...new Set([...this.prefixes.keys()].map((p) => p.length))].sort((a, b) => a - b);
  }

  /**
   * Whether an entry is purged: a few map lookups (URL, one per distinct prefix length, one
   * per tag), no I/O. Entries stored before purging existed (no stamp) only answer to `all`.
   */
  verdict(stamp: PurgeStamp | undefined): Verdict {
    const gen = stamp?.gen ?? 0;
    // Hot path: no closures or arrays; the common case (nothing newer than `gen`) is one compare.
    if (this.seq <= gen) return this.loaded ? "none" : "unknown";
    let hard = this.all.hard;
    let soft = this.all.soft;
    if (stamp) {
      let mark = this.urls.get(stamp.url);
      if (mark) ({ hard, soft } = higher(mark, hard, soft));
      for (const length of this.#prefixLengths) {
        if (length > stamp.url.length) break;
        mark = this.prefixes.get(stamp.url.slice(0, length));
        if (mark) ({ hard, soft } = higher(mark, hard, soft));
      }
      if (stamp.tags) {
        for (const tag of stamp.tags) {
          mark = this.tags.get(tag);
          if (mark) ({ hard, soft } = higher(mark, hard, soft));
        }
      }
    }
    if (hard > gen) return "hard";
    if (soft > gen) return "soft";
    return "none";
  }
}

function higher(mark: Mark, hard: number, soft: number): { hard: number; soft: number } {
  return { hard: mark.hard > hard ? mark.hard : hard, soft: mark.soft > soft ? mark.soft : soft };
}

/** The later of two marks, field by field (reads may overlap; marks only grow). */
export function newer(a: Mark, b: Mark): Mark {
  if (b.hard <= a.hard && b.soft <= a.soft) return a;
  return { hard: Math.max(a.hard, b.hard), soft: Math.max(a.soft, b.soft), at: Math.max(a.at, b.at) };
}

/** The sequence number of a mark's last purge (a hard purge also counts as soft). */
export function markSeq(mark: Mark): number {
  return mark.hard > mark.soft ? mark.hard : mark.soft;
}

/** A mark after one more purge with sequence number `seq`. A hard purge also counts as soft. */
export function marked(previous: Mark, seq: number, soft: boolean, at: number): Mark {
  return soft ? { hard: previous.hard, soft: seq, at } : { hard: seq, soft: seq, at };
}

const TAG_SEPARATORS = /[\s,]+/;

/**
 * Response headers purge tags are read from: `Cache-Tag` (Cloudflare) and `Surrogate-Key`
 * (Fastly). They are for Brim only and are removed before a client sees the response.
 */
export const TAG_HEADERS: readonly string[] = ["cache-tag", "surrogate-key"];

/**
 * Tags of a response: `Cache-Tag` (comma-separated, Cloudflare) and `Surrogate-Key`
 * (space-separated, Fastly); either separator is accepted in both. Bounded in count and length.
 */
export function responseTags(headers: Headers, maxTags: number, maxTagBytes: number): string[] {
  const out = new Set<string>();
  for (const name of TAG_HEADERS) {
    const value = headers.get(name);
    if (!value) continue;
    for (const tag of value.split(TAG_SEPARATORS)) {
      if (tag.length === 0 || tag.length > maxTagBytes) continue;
      if (out.size >= maxTags) return [...out];
      out.add(tag);
    }
  }
  return [...out];
}
