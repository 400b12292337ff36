import { CACHE_SEGMENT_BYTES, META_HEADER } from "../constants";
import { concat, segmentLengths, segmentsOf, segmentsRange } from "./segments";
import { headerMaterial, sha256Hex } from "../http/key-material";
import { parseMeta, serializeMeta, type EntryMeta } from "../http/entry";
import { meter } from "../meter";

/** Content-Encoding of a stored entry, hidden from the Cache API (see `put`). */
const ENCODING_HEADER = "x-brim-content-encoding";

/** Marks a primary-key record that only lists the Vary fields; the variants live elsewhere. */
const VARY_MARKER_HEADER = "x-brim-vary";

/** A stored response and its metadata. `response` has the storage-only headers still on it. */
export interface StoredEntry {
  readonly response: Response;
  readonly meta: EntryMeta;
  /**
   * Entries stored in segments: bytes `start`..`end` (inclusive) of the body, reading only the
   * segments they fall in (the others are cancelled). Used instead of `response.body`, never
   * with it. Absent for single-segment entries, which are sliced as they stream.
   */
  readonly range?: (start: number, end: number) => ReadableStream<Uint8Array>;
}

export interface Lookup {
  readonly entry: StoredEntry | null;
  /** The URL was known but not this variant (RFC 9211 `fwd=vary-miss`). */
  readonly varyMiss: boolean;
}

/**
 * Adapter over a Workers `Cache`. The Cache API knows nothing of Vary for synthetic keys, so
 * Brim does it itself: a response with Vary is stored under `key + hash(varying values)`, and
 * the primary key holds a marker naming the Vary fields (as Varnish and Fastly do). Variant keys
 * include the marker's generation: deleting the marker, or replacing it with one for other
 * fields, orphans every old variant for good.
 */
export class CacheStore {
  readonly #cache: Cache;

  constructor(cache: Cache) {
    this.#cache = cache;
  }

  async lookup(primaryKey: string, requestHeaders: Headers): Promise<Lookup> {
    const first = await this.#cache.match(primaryKey);
    if (!first) return { entry: null, varyMiss: false };
    const marker = readMarker(first.headers);
    if (marker === null) return { entry: await this.#complete(primaryKey, first), varyMiss: false };
    await first.body?.cancel();
    const key = await variantKey(primaryKey, marker, requestHeaders);
    const variant = await this.#cache.match(key);
    return variant ? { entry: await this.#complete(key, variant), varyMiss: false } : { entry: null, varyMiss: true };
  }

  /**
   * The entry at `key`, whole: its metadata readable, every segment present and each of the
   * length it was written with (checked before a byte is served). Anything else is a miss, and
   * the head is deleted so the next request refills it.
   */
  async #complete(key: string, head: Response): Promise<StoredEntry | null> {
    const entry = toEntry(head);
    if (!entry) return null;
    // parseMeta accepts only entries with a valid `body`.
    const { bytes, segments, write } = entry.meta.body!;
    const lengths = segmentLengths(bytes, segments);
    const rest = segments > 1 ? await Promise.all(lengths.slice(1).map((_, i) => this.#cache.match(segmentKey(key, write, i + 1)))) : [];
    const parts = [head, ...rest];
    const whole = parts.every((part, i) => part !== undefined && hasLength(part, lengths[i]!));
    if (!whole) {
      await Promise.all(parts.map((part) => part?.body?.cancel()));
      await this.#cache.delete(key).catch(() => false);
      return null;
    }
    if (segments === 1) return entry;
    const bodies = [entry.response.body, ...rest.map((part) => part!.body)];
    // `concat` takes a part's reader only when it reaches it, so either stream may be used.
    // The head's Content-Length is its own segment's: the whole body's replaces it.
    const headers = new Headers(entry.response.headers);
    headers.set("content-length", String(bytes));
    const response = new Response(concat(bodies), { status: entry.response.status, statusText: entry.response.statusText, headers });
    return { meta: entry.meta, response, range: (start, end) => segmentsRange(bodies, lengths, start, end) };
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
   * rejects (having committed nothing) otherwise.
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
          await this.#cache.put(key, new Response(segment, { headers: { "cache-control": headers.get("cache-control")! } }));
          segments.push(key);
        }
      }
    } catch (error) {
      await Promise.all(segments.map((key) => this.#cache.delete(key).catch(() => false)));
      throw error;
    }
    const committed: EntryMeta = { ...meta, body: { bytes: total, segments: segments.length + 1, write } };
    headers.set(META_HEADER, serializeMeta(committed));
    await this.#cache.put(
      entryKey,
      new Response(first ?? new Uint8Array(0), { status: response.status, statusText: response.statusText, headers, encodeBody: "manual" }),
    );
    if (marker) await this.#cache.put(primaryKey, marker.record);
    return committed;
  }

  /**
   * Replaces the body of the variant stored by write `write` with `body` (at most one segment),
   * keeping its status, headers and metadata except `body` and the fields in `patch`; kept for
   * `storageSeconds` from now. Only a variant still reachable through the current Vary marker,
   * and still from that write, is replaced: an entry rewritten since (a revalidation, another
   * miss) answers "changed", a deleted one (invalidation, a marker replaced) "gone", and
   * neither is touched. The check is the read just before the one put that replaces the head,
   * so a reader sees the old entry or the new one, each whole. The variant key carries the
   * marker's generation: if the marker is deleted between that read and the put, the new head
   * lands under a key no lookup reaches, so a deleted entry never comes back.
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
    const first = await this.#cache.match(primaryKey);
    meter("cacheRead");
    await first?.body?.cancel();
    const marker = first ? readMarker(first.headers) : null;
    if (marker === null) return "gone";
    const key = await variantKey(primaryKey, marker, requestHeaders);
    const head = await this.#cache.match(key);
    meter("cacheRead");
    if (!head) return "gone";
    await head.body?.cancel();
    const meta = parseMeta(head.headers.get(META_HEADER));
    if (meta === null || meta.body?.write !== write) return "changed";
    const headers = new Headers(head.headers);
    for (const name of ["content-length", "cf-cache-status", "age"]) headers.delete(name);
    headers.set("cache-control", `public, max-age=${Math.ceil(storageSeconds)}`);
    const committed: EntryMeta = { ...meta, ...patch, body: { bytes: body.byteLength, segments: 1, write: crypto.randomUUID() } };
    headers.set(META_HEADER, serializeMeta(committed));
    await this.#cache.put(key, new Response(body, { status: head.status, statusText: head.statusText, headers, encodeBody: "manual" }));
    meter("cacheWrite");
    return "replaced";
  }

  /**
   * Reuses the current marker's generation if it names the same fields; otherwise starts a new
   * one, so variants written under an older (or deleted) marker can never come back.
   */
  async #markerFor(primaryKey: string, fields: readonly string[], storageSeconds: number): Promise<{ marker: Marker; record: Response }> {
    const current = await this.#cache.match(primaryKey);
    await current?.body?.cancel();
    const existing = current ? readMarker(current.headers) : null;
    const reuse = existing !== null && existing.fields.join(",") === fields.join(",");
    const marker: Marker = reuse ? existing : { fields, generation: crypto.randomUUID() };
    const markerHeaders = new Headers({ "cache-control": `public, max-age=${Math.ceil(storageSeconds)}` });
    markerHeaders.set(VARY_MARKER_HEADER, `${marker.generation};${marker.fields.join(",")}`);
    // Rewritten even when reused, so the marker lives as long as its newest variant.
    return { marker, record: new Response(null, { headers: markerHeaders }) };
  }

  /** Removes the entry (or the Vary marker, which makes every variant unreachable). */
  async delete(primaryKey: string): Promise<void> {
    await this.#cache.delete(primaryKey);
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

/** A Vary marker: the fields, and a generation that changes whenever the marker is replaced. */
interface Marker {
  readonly fields: readonly string[];
  readonly generation: string;
}

function readMarker(headers: Headers): Marker | null {
  const value = headers.get(VARY_MARKER_HEADER);
  if (value === null) return null;
  const semi = value.indexOf(";");
  return { generation: value.slice(0, semi), fields: value.slice(semi + 1).split(",") };
}

async function variantKey(primaryKey: string, marker: Marker, requestHeaders: Headers): Promise<string> {
  let material = "";
  // Absent and empty differ (RFC 9111 §4.1); see `headerMaterial`.
  for (const name of marker.fields) material += `${headerMaterial(name, requestHeaders.get(name))}\n`;
  return `${primaryKey}/v/${marker.generation}/${await sha256Hex(material)}`;
}

/** An entry whose metadata this version cannot read is treated as a miss. */
function toEntry(response: Response): StoredEntry | null {
  const meta = parseMeta(response.headers.get(META_HEADER));
  if (meta) {
    const encoding = response.headers.get(ENCODING_HEADER);
    if (encoding === null) return { response, meta };
    const headers = new Headers(response.headers);
    headers.delete(ENCODING_HEADER);
    headers.set("content-encoding", encoding);
    return { response: new Response(response.body, { status: response.status, statusText: response.statusText, headers }), meta };
  }
  void response.body?.cancel();
  return null;
}
