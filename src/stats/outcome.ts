/**
 * How one request was answered, as the stats count it (pure): the HTTP status class and the
 * Cache-Status outcome, derived from the typed outcome (src/env.ts), never from a header string.
 */
import type { CacheStatus } from "../http/cache-status";

/** RFC 9110 §15: the first digit of the status code. */
export type StatusClass = "1xx" | "2xx" | "3xx" | "4xx" | "5xx";
export const STATUS_CLASSES: readonly StatusClass[] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/**
 * One word per request from Brim's Cache-Status member (RFC 9211 §2):
 * - `hit`: fresh from the cache; `stale`: served stale (stale-while-revalidate, max-stale,
 *   stale-if-error, a stale copy when coalescing was unavailable);
 * - `collapsed`: answered by another request's origin fetch (§2.6);
 * - `revalidated`: a stored response sent to the origin for validation (`fwd=stale`) and its answer used;
 * - `uri-miss`, `vary-miss`, `miss`: nothing usable stored (§2.2);
 * - `bypass` (route or credentials say so), `method` (a method the cache does not serve),
 *   `request` (the request asked to skip the cache);
 * - `none`: answered before the cache (an auth refusal, an admin or routing answer).
 */
export type CacheOutcome =
  "hit" | "stale" | "collapsed" | "revalidated" | "uri-miss" | "vary-miss" | "miss" | "bypass" | "method" | "request" | "none";

/** Every outcome, in the order the page lists them. */
export const CACHE_OUTCOMES: readonly CacheOutcome[] = [
  "hit",
  "stale",
  "collapsed",
  "revalidated",
  "uri-miss",
  "vary-miss",
  "miss",
  "bypass",
  "method",
  "request",
  "none",
];

/** Outcomes answered without an origin fetch of the request's own (the hit-ratio numerator is `hit` + `stale`). */
export const SERVED_FROM_CACHE: ReadonlySet<CacheOutcome> = new Set(["hit", "stale"]);

export function statusClassOf(status: number): StatusClass {
  if (status < 200) return "1xx";
  if (status < 300) return "2xx";
  if (status < 400) return "3xx";
  if (status < 500) return "4xx";
  return "5xx";
}

/** The error kind counted for a coalescing fallback (a Coalescer that could not be reached). */
export const COALESCE_FALLBACK = "coalesce-unavailable";

export function cacheOutcomeOf(status: CacheStatus | null): CacheOutcome {
  if (status === null) return "none";
  if (status.collapsed) return "collapsed";
  const stale = status.ttl !== undefined && status.ttl < 0;
  if (status.hit) return stale ? "stale" : "hit";
  if (status.detail === "stale-if-error" || (status.fwd === "stale" && status.detail === COALESCE_FALLBACK)) return "stale";
  if (status.fwd === "stale") return "revalidated";
  return status.fwd ?? "none";
}
