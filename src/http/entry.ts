/**
 * What Brim stores beside each cached response: everything needed to compute age, freshness
 * and the stale windows later without re-parsing the origin's headers (RFC 9111 §4.2).
 */
export interface EntryMeta {
  /** 2: written whole from a buffer, with `body` (entries of version 1 were streamed: misses). */
  readonly v: 2;
  /** When the response was received (RFC 9111 §4.2.3 response_time), epoch ms. */
  readonly responseTime: number;
  /** corrected_initial_age (RFC 9111 §4.2.3), seconds. */
  readonly initialAge: number;
  /** Freshness lifetime after route policy and jitter, seconds. */
  readonly lifetime: number;
  /** RFC 5861 windows, seconds (0 when none). */
  readonly swr: number;
  readonly sie: number;
  /** must-revalidate / proxy-revalidate / s-maxage: never served stale (RFC 9111 §4.2.4). */
  readonly noStale: boolean;
  /** no-cache: validate before every reuse (RFC 9111 §5.2.2.4). */
  readonly noCache: boolean;
  /** May answer requests that carry Authorization (RFC 9111 §3.5). */
  readonly authOk: boolean;
  /** Lower-cased field names from Vary, sorted. */
  readonly vary: readonly string[];
  /** The stored bytes are really encoded as Content-Encoding says (a variant Brim compressed). */
  readonly encoded?: boolean;
  /** Length of the identity body a variant Brim compressed came from, when the origin said it. */
  readonly identityBytes?: number;
  /** The entry is one Accept-Encoding variant of a negotiable response (src/compress/). */
  readonly negotiated?: boolean;
  /** The stored bytes come from the background high-quality pass (src/compress/recompress.ts). */
  readonly recompressed?: boolean;
  /** What purges match (src/purge/): the purge generation, URL and tags; absent on older entries. */
  readonly purge?: {
    /** The tenant's purge sequence number when the request that stored it began. */
    readonly gen: number;
    /** Normalised path + keyed query: what URL and prefix purges match. */
    readonly url: string;
    /** From the origin's `Cache-Tag` / `Surrogate-Key`. */
    readonly tags?: readonly string[];
  };
  /**
   * How the body was committed (src/cache/store.ts): total bytes, segment count, and the id of
   * the write its segments are keyed by. Set by the store, never by the caller.
   */
  readonly body?: { readonly bytes: number; readonly segments: number; readonly write: string };
  /** The origin's own header values, restored when the entry is served. */
  readonly headers: {
    readonly cacheControl: string | null;
    readonly expires: string | null;
    readonly vary: string | null;
  };
}

/** Current age in whole seconds (RFC 9111 §4.2.3). */
export function currentAge(meta: EntryMeta, nowMs: number): number {
  const resident = Math.max(0, nowMs - meta.responseTime) / 1000;
  return Math.floor(meta.initialAge + resident);
}

/** Seconds of freshness left; negative once stale (its magnitude is the staleness). */
export function remainingFreshness(meta: EntryMeta, nowMs: number): number {
  return meta.lifetime - currentAge(meta, nowMs);
}

export function serializeMeta(meta: EntryMeta): string {
  return JSON.stringify(meta);
}

/** Returns null for anything that is not a metadata record this version wrote. */
export function parseMeta(text: string | null): EntryMeta | null {
  if (!text) return null;
  try {
    const meta = JSON.parse(text) as Partial<EntryMeta> | null;
    if (!meta || meta.v !== 2 || typeof meta.responseTime !== "number" || !validBody(meta.body)) return null;
    return meta as EntryMeta;
  } catch {
    return null;
  }
}

function validBody(body: EntryMeta["body"] | undefined): boolean {
  return (
    body !== undefined &&
    Number.isSafeInteger(body.bytes) &&
    body.bytes >= 0 &&
    Number.isSafeInteger(body.segments) &&
    body.segments >= 1 &&
    typeof body.write === "string"
  );
}
