import { CACHE_SEGMENT_BYTES, META_HEADER } from "../constants";
import { meter } from "../meter";
import { concat, segmentLengths, segmentsOf, segmentsRange } from "./segments";
import { parseMeta, serializeMeta, type EntryMeta } from "../http/entry";
import { BoundedLru, DEFAULT_MEMORY_TIER, recordBytes, type MemoryRecord, type MemoryTierOptions } from "./memory";
import { markerValue, readMarker, VARY_MARKER_HEADER, variantKey, type Marker } from "./vary";

/** Content-Encoding of a stored entry, hidden from the Cache API (see `put`). */
const ENCODING_HEADER = "x-brim-content-encoding";

/** A stored response and its metadata. `response` has the storage-only headers still on it. */
export interface StoredEntry {
  readonly response: Response;
  readonly meta: EntryMeta;
  /**
   * Entries stored in segments, or kept in memory: bytes `start`..`end` (inclusive) of the body,
   * reading only the segments they fall in (the others are cancelled). Used instead of
   * `response.body`, never with it. Absent for single-segment entries read from the Cache API,
   * which are sliced as they stream.
   */
  readonly range?: (start: number, end: number) => ReadableStream<Uint8Array>;
  /** From this isolate's memory tier (src/cache/memory.ts), not read from the Cache API just now. */
  readonly fromMemory?: boolean;
}

export interface Lookup {
  readonly entry: StoredEntry | null;
  /** The URL was known but not this variant (RFC 9211 `fwd=vary-miss`). */
  readonly varyMiss: boolean;
}

export interface LookupOptions {
  /**
   * Default true. False skips this isolate's memory entries and reads the Cache API (which
   * another isolate may have refreshed), replacing or dropping the memory entry with what it finds.
   */
  readonly memory?: boolean;
}

export interface CacheStoreOptions {
  /** Epoch ms (memory residency). Default: `Date.now`. */
  readonly now?: () => number;
  /** Memory tier bounds; defaults DEFAULT_MEMORY_TIER (src/constants.ts MEMORY_TIER_*). */
  readonly memory?: Partial<MemoryTierOptions>;
}

/**
 * Adapter over a Workers `Cache`, with a bounded memory tier in front. The Cache API knows
 * nothing of Vary for synthetic keys, so Brim does it itself (src/cache/vary.ts): a response
 * with Vary is stored under `key + hash(varying values)`, and the primary key holds a marker
 * naming the Vary fields. Variant keys include the marker's generation: deleting the marker, or
 * replacing it with one for other fields, orphans every old variant for good.
 *
 * A hit costs at most one Cache API read (plus the further segments of entries past
 * CACHE_SEGMENT_BYTES): the isolate remembers each key's marker, so it computes the variant key
 * without reading the marker, and small entries are answered from memory with no read at all.
 * Memory entries come back as ordinary entries (`fromMemory` set) for the caller to check.
 */
export class CacheStore {
  readonly #cache: Cache;
  readonly #now: () => number;
  readonly #limits: MemoryTierOptions;
  /** Entry key (primary or variant) → small whole entry. */
  readonly #entries: BoundedLru<MemoryRecord>;
  /** Primary key → its Vary marker as last read or written here. */
  readonly #markers: BoundedLru<Marker>;

  constructor(cache: Cache, options: CacheStoreOptions = {}) {
    this.#cache = cache;
    this.#now = options.now ?? Date.now;
    this.#limits = { ...DEFAULT_MEMORY_TIER, ...options.memory };
    this.#entries = new BoundedLru(this.#limits.maxEntries, this.#limits.maxBytes);
    this.#markers = new BoundedLru(this.#limits.varyMaxKeys, this.#limits.varyMaxBytes);
  }

  async lookup(primaryKey: string, requestHeaders: Headers, options: LookupOptions = {}): Promise<Lookup> {
    const memory = options.memory ?? true;
    const now = this.#now();
    const known = this.#markers.get(primaryKey, now);
    const guess = known ? await variantKey(primaryKey, known, requestHeaders) : primaryKey;
    const held = memory ? this.#entries.get(guess, now) : undefined;
    if (held) return { entry: fromRecord(held, true), varyMiss: false };
    if (known) {
      // One read: the marker is known here. Not there: the marker may have changed, so read it.
      const variant = await this.#match(guess);
      if (variant) return { entry: await this.#complete(guess, variant), varyMiss: false };
      this.#entries.delete(guess);
      this.#markers.delete(primaryKey);
    }
    const first = await this.#match(primaryKey);
    if (!first) {
      this.#entries.delete(primaryKey);
      return { entry: null, varyMiss: false };
    }
    const marker = readMarker(first.headers);
    if (marker === null) return { entry: await this.#complete(primaryKey, first), varyMiss: false };
    await first.body?.cancel();
    this.#entries.delete(primaryKey);
    this.#markers.set(primaryKey, marker, markerBytes(primaryKey, marker), now + this.#limits.residencyMs);
    const key = await variantKey(primaryKey, marker, requestHeaders);
    // The same marker as remembered: its variant was just found missing.
    if (key === guess) return { entry: null, varyMiss: true };
    const again = memory ? this.#entries.get(key, now) : undefined;
    if (again) return { entry: fromRecord(again, true), varyMiss: false };
    const variant = await this.#match(key);
    return variant ? { entry: await this.#complete(key, variant), varyMiss: false } : { entry: null, varyMiss: true };
  }

  /**
   * The entry at `key`, whole: its metadata readable, every segment present and each of the
   * length it was written with (checked before a byte is served). Anything else is a miss, and
   * the head is deleted so the next request refills it. A small entry is read into memory and
   * kept in the memory tier.
   */
  async #complete(key: string, head: Response): Promise<StoredEntry | null> {
    const meta = parseMeta(head.headers.get(META_HEADER));
    if (!meta) {
      // An entry whose metadata this version cannot read is treated as a miss.
      void head.body?.cancel();
      this.#entries.delete(key);
      return null;
    }
    // parseMeta accepts only entries with a valid `body`.
    const { bytes, segments, write } = meta.body!;
    if (this.#fits(bytes, segments)) {
      const body = new Uint8Array(await head.arrayBuffer());
      if (body.byteLength !== bytes || !hasLength(head, bytes)) return this.#damaged(key, []);
      const record: MemoryRecord = { status: head.status, statusText: head.statusText, headers: [...head.headers], body, meta };
      this.#keep(key, record, this.#limits.residencyMs);
      return fromRecord(record, false);
    }
    this.#entries.delete(key);
    const entry = toEntry(head, meta);
    const lengths = segmentLengths(bytes, segments);
    const rest = segments > 1 ? await Promise.all(lengths.slice(1).map((_, i) => this.#match(segmentKey(key, write, i + 1)))) : [];
    const parts = [head, ...rest];
    const whole = parts.every((part, i) => part !== undefined && hasLength(part, lengths[i]!));
    if (!whole) return this.#damaged(key, [entry.response, ...rest]);
    if (segments === 1) return entry;
    const bodies = [entry.response.body, ...rest.map((part) => part!.body)];
    // `concat` takes a part's reader only when it reaches it, so either stream may be used.
    // The head's Content-Length is its own segment's: the whole body's replaces it.
    const headers = new Headers(entry.response.headers);
    headers.set("content-length", String(bytes));
    const response = new Response(concat(bodies), { status: entry.response.status, statusText: entry.response.statusText, headers });
    return { meta: entry.meta, response, range: (start, end) => segmentsRange(bodies, lengths, start, end) };
  }

  /** A damaged entry is a miss: its head is deleted so the next request refills it. */
  async #damaged(key: string, parts: readonly (Response | undefined)[]): Promise<null> {
    this.#entries.delete(key);
    await Promise.all(parts.map((part) => part?.body?.cancel()));
    await this.#delete(key).catch(() => false);
    return null;
  }

  /**
   * Stores `response` (whose body this consumes) with `meta`, kept for `storageSeconds`.
   *
   * Nothing becomes visible unless the body ended cleanly: the body is read into memory and
   * each Cache API put gets a complete buffer, never a stream (workerd's `cache.put` keeps the
   * bytes it read from a stream that then fails, and can resolve after its upstream was lost).
   * Bodies past CACHE_SEGMENT_BYTES are written as segments under a key unique to this write,
   * then the head entry (first segment + metadata naming the segments and total length) last;
   * the Vary marker only after that. A body that errors or passes `maxBytes` leaves nothing
   * reachable (segments already written are deleted, and unreachable anyway).
   * Resolves with the metadata as committed (its `body` names this write) when committed;
   * rejects (having committed nothing) otherwise. A small entry replaces this isolate's memory
   * copy once committed; a large one drops it.
   */
  async put(
    primaryKey: string,
    requestHeaders: Headers,
    response: Response,
    meta: EntryMeta,
    storageSeconds: number,
    maxBytes: number,
  ): Promise<EntryMeta> {
    const headers = new Headers(response.headers);
    for (const name of ["cache-control", "expires", "vary", "age", "set-cookie", "cdn-cache-control", "content-length"])
      headers.delete(name);
    headers.set("cache-control", `public, max-age=${Math.ceil(storageSeconds)}`);
    // The Cache API acts on Content-Encoding (workerd's decodes br on match, not gzip), so the
    // stored copy carries it under another name and the body is kept byte for byte; lookups
    // put it back. Whether those bytes are really encoded is the entry's `encoded` flag.
    const encoding = headers.get("content-encoding");
    if (encoding !== null) {
      headers.delete("content-encoding");
      headers.set(ENCODING_HEADER, encoding);
    }
    const marker = meta.vary.length === 0 ? null : await this.#markerFor(primaryKey, meta.vary, storageSeconds);
    const entryKey = marker ? await variantKey(primaryKey, marker.marker, requestHeaders) : primaryKey;
    const write = crypto.randomUUID();
    const segments: string[] = [];
    let first: Uint8Array | null = null;
    let total = 0;
    try {
      if (response.body) {
        for await (const segment of segmentsOf(response.body, CACHE_SEGMENT_BYTES, maxBytes)) {
          total += segment.byteLength;
          if (first === null) {
            first = segment;
            continue;
          }
          const key = segmentKey(entryKey, write, segments.length + 1);
          await this.#put(key, new Response(segment, { headers: { "cache-control": headers.get("cache-control")! } }));
          segments.push(key);
        }
      }
    } catch (error) {
      await Promise.all(segments.map((key) => this.#delete(key).catch(() => false)));
      throw error;
    }
    const committed: EntryMeta = { ...meta, body: { bytes: total, segments: segments.length + 1, write } };
    headers.set(META_HEADER, serializeMeta(committed));
    const body = first ?? new Uint8Array(0);
    // Copied before the put, which may take the buffer.
    const kept = this.#fits(total, segments.length + 1) ? body.slice() : null;
    await this.#put(
      entryKey,
      new Response(body, { status: response.status, statusText: response.statusText, headers, encodeBody: "manual" }),
    );
    if (kept) {
      const record: MemoryRecord = {
        status: response.status,
        statusText: response.statusText,
        headers: [...headers, ["content-length", String(total)]],
        body: kept,
        meta: committed,
      };
      this.#keep(entryKey, record, Math.min(this.#limits.residencyMs, storageSeconds * 1000));
    } else this.#entries.delete(entryKey);
    if (marker) {
      await this.#put(primaryKey, marker.record);
      const until = this.#now() + this.#limits.residencyMs;
      this.#markers.set(primaryKey, marker.marker, markerBytes(primaryKey, marker.marker), until);
    } else this.#markers.delete(primaryKey);
    return committed;
  }

  /**
   * Replaces the body of the variant stored by write `write` with `body` (at most one segment),
   * keeping its status, headers and metadata except `body` and the fields in `patch`; kept for
   * `storageSeconds` from now. Only a variant still reachable through the current Vary marker
   * (read from the Cache API, not this isolate's memory), and still from that write, is
   * replaced: an entry rewritten since (a revalidation, another miss) answers "changed", a
   * deleted one (invalidation, a marker replaced) "gone", and neither is touched. The check is
   * the read just before the one put that replaces the head, so a reader sees the old entry or
   * the new one, each whole. The variant key carries the marker's generation: if the marker is
   * deleted between that read and the put, the new head lands under a key no lookup reaches,
   * so a deleted entry never comes back. This isolate's memory copy follows the replacement;
   * other isolates' copies keep the old bytes until their residency ends.
   */
  async replaceBody(
    primaryKey: string,
    requestHeaders: Headers,
    write: string,
    body: Uint8Array,
    patch: Partial<Pick<EntryMeta, "recompressed">>,
    storageSeconds: number,
  ): Promise<"replaced" | "changed" | "gone"> {
    if (body.byteLength > CACHE_SEGMENT_BYTES) throw new RangeError(`replaceBody: ${body.byteLength} bytes is more than one segment`);
    const first = await this.#match(primaryKey);
    await first?.body?.cancel();
    const marker = first ? readMarker(first.headers) : null;
    if (marker === null) return "gone";
    const key = await variantKey(primaryKey, marker, requestHeaders);
    const head = await this.#match(key);
    if (!head) return "gone";
    await head.body?.cancel();
    const meta = parseMeta(head.headers.get(META_HEADER));
    if (meta === null || meta.body?.write !== write) return "changed";
    const headers = new Headers(head.headers);
    for (const name of ["content-length", "cf-cache-status", "age"]) headers.delete(name);
    headers.set("cache-control", `public, max-age=${Math.ceil(storageSeconds)}`);
    const committed: EntryMeta = { ...meta, ...patch, body: { bytes: body.byteLength, segments: 1, write: crypto.randomUUID() } };
    headers.set(META_HEADER, serializeMeta(committed));
    // Copied before the put, which may take the buffer.
    const kept = this.#fits(body.byteLength, 1) ? body.slice() : null;
    await this.#put(key, new Response(body, { status: head.status, statusText: head.statusText, headers, encodeBody: "manual" }));
    if (kept) {
      const record: MemoryRecord = {
        status: head.status,
        statusText: head.statusText,
        headers: [...headers, ["content-length", String(kept.byteLength)]],
        body: kept,
        meta: committed,
      };
      this.#keep(key, record, Math.min(this.#limits.residencyMs, storageSeconds * 1000));
    } else this.#entries.delete(key);
    return "replaced";
  }

  /**
   * Reuses the current marker's generation if it names the same fields; otherwise starts a new
   * one, so variants written under an older (or deleted) marker can never come back.
   */
  async #markerFor(primaryKey: string, fields: readonly string[], storageSeconds: number): Promise<{ marker: Marker; record: Response }> {
    const current = await this.#match(primaryKey);
    await current?.body?.cancel();
    const existing = current ? readMarker(current.headers) : null;
    const reuse = existing !== null && existing.fields.join(",") === fields.join(",");
    const marker: Marker = reuse ? existing : { fields, generation: crypto.randomUUID() };
    const markerHeaders = new Headers({ "cache-control": `public, max-age=${Math.ceil(storageSeconds)}` });
    markerHeaders.set(VARY_MARKER_HEADER, markerValue(marker));
    // Rewritten even when reused, so the marker lives as long as its newest variant.
    return { marker, record: new Response(null, { headers: markerHeaders }) };
  }

  /**
   * Removes the entry (or the Vary marker, which makes every variant unreachable), here and in
   * this isolate's memory. Other isolates see it once their memory copies' residency ends
   * (MEMORY_TIER_RESIDENCY_MS).
   */
  async delete(primaryKey: string): Promise<void> {
    this.#forget(primaryKey);
    await this.#delete(primaryKey);
    // A lookup that read the entry before the delete may have kept it meanwhile.
    this.#forget(primaryKey);
  }

  #forget(primaryKey: string): void {
    this.#entries.delete(primaryKey);
    this.#markers.delete(primaryKey);
  }

  /** Whether a committed body of `bytes` in `segments` segments belongs in memory. */
  #fits(bytes: number, segments: number): boolean {
    return segments === 1 && this.#limits.maxEntryBytes > 0 && bytes <= this.#limits.maxEntryBytes;
  }

  #keep(key: string, record: MemoryRecord, residencyMs: number): void {
    this.#entries.set(key, record, recordBytes(key, record), this.#now() + residencyMs);
  }

  #match(key: string): Promise<Response | undefined> {
    meter("cacheRead");
    return this.#cache.match(key);
  }

  #put(key: string, response: Response): Promise<void> {
    meter("cacheWrite");
    return this.#cache.put(key, response);
  }

  #delete(key: string): Promise<boolean> {
    meter("cacheWrite");
    return this.#cache.delete(key);
  }
}

function segmentKey(entryKey: string, write: string, index: number): string {
  return `${entryKey}/s/${write}/${index}`;
}

/** The Cache API reports the stored length of buffered puts; a different length is damage. */
function hasLength(response: Response, bytes: number): boolean {
  const length = response.headers.get("content-length");
  return length === null || Number(length) === bytes;
}

function markerBytes(primaryKey: string, marker: Marker): number {
  return (primaryKey.length + marker.generation.length + marker.fields.join(",").length) * 2 + 128;
}

/** The stored Content-Encoding put back (see `put`). */
function restoredHeaders(headers: Headers): Headers {
  const encoding = headers.get(ENCODING_HEADER);
  if (encoding === null) return headers;
  const restored = new Headers(headers);
  restored.delete(ENCODING_HEADER);
  restored.set("content-encoding", encoding);
  return restored;
}

function toEntry(response: Response, meta: EntryMeta): StoredEntry {
  if (!response.headers.has(ENCODING_HEADER)) return { response, meta };
  const headers = restoredHeaders(response.headers);
  return { response: new Response(response.body, { status: response.status, statusText: response.statusText, headers }), meta };
}

/** A fresh `Response` over a kept record's bytes (each hit gets its own). */
function fromRecord(record: MemoryRecord, fromMemory: boolean): StoredEntry {
  const { body, status, statusText, meta } = record;
  const headers = restoredHeaders(new Headers(record.headers as [string, string][]));
  const response = new Response(body.byteLength === 0 ? null : streamOf(body.slice()), { status, statusText, headers });
  return { response, meta, range: (start, end) => streamOf(body.slice(start, end + 1)), ...(fromMemory ? { fromMemory } : {}) };
}

/**
 * A JavaScript stream of `bytes` (a copy: the record's own bytes never leave it). Not a buffer
 * body: workerd cannot pipe a buffer-backed body tee'd for a 304 refresh into another stream.
 */
function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}
