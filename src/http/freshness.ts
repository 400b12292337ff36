import { deltaSeconds, parseCacheControl, type Directives } from "./cache-control";
import { currentAge, remainingFreshness, type EntryMeta } from "./entry";

/** What the client's own Cache-Control asks of the cache (RFC 9111 §5.2.1). */
export interface RequestDirectives {
  readonly noCache: boolean;
  readonly noStore: boolean;
  readonly onlyIfCached: boolean;
  /** null when absent. An invalid max-age counts as 0 (RFC 9111 §4.2.1: treat as stale). */
  readonly maxAge: number | null;
  readonly minFresh: number | null;
  /** `Infinity` for a bare `max-stale`, null when absent. */
  readonly maxStale: number | null;
}

export const NO_REQUEST_DIRECTIVES: RequestDirectives = Object.freeze({
  noCache: false,
  noStore: false,
  onlyIfCached: false,
  maxAge: null,
  minFresh: null,
  maxStale: null,
});

export function parseRequestDirectives(header: string | null): RequestDirectives {
  if (!header) return NO_REQUEST_DIRECTIVES;
  const cc: Directives = parseCacheControl(header);
  if (cc.size === 0) return NO_REQUEST_DIRECTIVES;
  return {
    noCache: cc.has("no-cache"),
    noStore: cc.has("no-store"),
    onlyIfCached: cc.has("only-if-cached"),
    maxAge: cc.has("max-age") ? (deltaSeconds(cc, "max-age") ?? 0) : null,
    minFresh: cc.has("min-fresh") ? (deltaSeconds(cc, "min-fresh") ?? 0) : null,
    maxStale: cc.has("max-stale") ? (cc.get("max-stale") === true ? Infinity : (deltaSeconds(cc, "max-stale") ?? 0)) : null,
  };
}

/**
 * How a stored entry may be used for this request:
 * - `fresh`: serve it.
 * - `stale-while-revalidate`: serve it now and refresh it in the background (RFC 5861 §3).
 * - `stale-ok`: serve it stale because the client allowed it with max-stale (RFC 9111 §5.2.1.2).
 * - `revalidate`: validate with the origin first; if that fails, `staleIfError` says whether
 *   the entry may still be served (RFC 5861 §4).
 */
export type Reuse =
  | { readonly kind: "fresh"; readonly ttl: number; readonly age: number }
  | { readonly kind: "stale-while-revalidate"; readonly ttl: number; readonly age: number }
  | { readonly kind: "stale-ok"; readonly ttl: number; readonly age: number }
  | {
      readonly kind: "revalidate";
      readonly ttl: number;
      readonly age: number;
      readonly staleIfError: boolean;
      readonly reason: "stale" | "no-cache" | "request";
    };

/** Pure: decides reuse from the entry's metadata, the request directives and `nowMs`. */
export function decideReuse(meta: EntryMeta, request: RequestDirectives, nowMs: number): Reuse {
  const age = currentAge(meta, nowMs);
  const ttl = remainingFreshness(meta, nowMs);
  const staleness = Math.max(0, -ttl);
  // RFC 9111 §4.2.4: a response stored with no-cache (like must-revalidate) is never served
  // without successful validation, so stale-if-error cannot apply to it.
  const staleIfError = !meta.noStale && !meta.noCache && staleness <= meta.sie;
  const revalidate = (reason: "stale" | "no-cache" | "request"): Reuse => ({ kind: "revalidate", ttl, age, staleIfError, reason });

  if (meta.noCache) return revalidate("no-cache");
  if (request.noCache) return revalidate("request");
  if (request.maxAge !== null && age > request.maxAge) return revalidate("request");
  if (request.minFresh !== null && ttl < request.minFresh) return revalidate("request");
  if (ttl > 0) return { kind: "fresh", ttl, age };
  if (!meta.noStale && staleness < meta.swr) return { kind: "stale-while-revalidate", ttl, age };
  if (!meta.noStale && request.maxStale !== null && staleness <= request.maxStale) return { kind: "stale-ok", ttl, age };
  return revalidate("stale");
}
