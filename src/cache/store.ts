import { META_HEADER } from "../constants";
import { headerMaterial, sha256Hex } from "./key";
import { parseMeta, serializeMeta, type EntryMeta } from "./entry";

/** Content-Encoding of a stored entry, hidden from the Cache API (see `put`). */
const ENCODING_HEADER = "x-brim-content-encoding";

/** Marks a primary-key record that only lists the Vary fields; the variants live elsewhere. */
const VARY_MARKER_HEADER = "x-brim-vary";

/** A stored response and its metadata. `response` has the storage-only headers still on it. */
export interface StoredEntry {
  readonly response: Response;
  readonly meta: EntryMeta;
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
    if (marker === null) return { entry: toEntry(first), varyMiss: false };
    await first.body?.cancel();
    const variant = await this.#cache.match(await variantKey(primaryKey, marker, requestHeaders));
    return variant ? { entry: toEntry(variant), varyMiss: false } : { entry: null, varyMiss: true };
  }

  /**
   * Stores `response` (whose body this consumes) with `meta`, kept for `storageSeconds`.
   * Resolves when the write is complete; rejects if the body stream errors.
   */
  async put(primaryKey: string, requestHeaders: Headers, response: Response, meta: EntryMeta, storageSeconds: number): Promise<void> {
    const headers = new Headers(response.headers);
    for (const name of ["cache-control", "expires", "vary", "age", "set-cookie", "cdn-cache-control"]) headers.delete(name);
    headers.set("cache-control", `public, max-age=${Math.ceil(storageSeconds)}`);
    headers.set(META_HEADER, serializeMeta(meta));
    // The Cache API acts on Content-Encoding (workerd's decodes br on match, not gzip), so the
    // stored copy carries it under another name and the body is kept byte for byte; lookups
    // put it back. Whether those bytes are really encoded is the entry's `encoded` flag.
    const encoding = headers.get("content-encoding");
    if (encoding !== null) {
      headers.delete("content-encoding");
      headers.set(ENCODING_HEADER, encoding);
    }
    const stored = new Response(response.body, { status: response.status, statusText: response.statusText, headers, encodeBody: "manual" });
    if (meta.vary.length === 0) {
      await this.#putWhole(primaryKey, stored);
      return;
    }
    // Reuse the current marker's generation if it names the same fields; otherwise start a new
    // one, so variants written under an older (or deleted) marker can never come back.
    const current = await this.#cache.match(primaryKey);
    await current?.body?.cancel();
    const existing = current ? readMarker(current.headers) : null;
    const marker: Marker =
      existing && existing.fields.join(",") === meta.vary.join(",") ? existing : { fields: meta.vary, generation: crypto.randomUUID() };
    const markerHeaders = new Headers({ "cache-control": `public, max-age=${Math.ceil(storageSeconds)}` });
    markerHeaders.set(VARY_MARKER_HEADER, `${marker.generation};${marker.fields.join(",")}`);
    await Promise.all([
      this.#cache.put(primaryKey, new Response(null, { headers: markerHeaders })),
      this.#putWhole(await variantKey(primaryKey, marker, requestHeaders), stored),
    ]);
  }

  /**
   * workerd's `cache.put` can keep the bytes it read before the body stream failed (for
   * example when the size limit cut it off); delete the key so no truncated entry is served.
   */
  async #putWhole(key: string, response: Response): Promise<void> {
    try {
      await this.#cache.put(key, response);
    } catch (error) {
      await this.#cache.delete(key).catch(() => false);
      throw error;
    }
  }

  /** Removes the entry (or the Vary marker, which makes every variant unreachable). */
  async delete(primaryKey: string): Promise<void> {
    await this.#cache.delete(primaryKey);
  }
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
