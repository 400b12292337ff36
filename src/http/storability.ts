import {
  MAX_STORED_HEADER_BYTES,
  MAX_STORED_HEADER_FIELDS,
  MAX_STORAGE_SECONDS,
  REVALIDATION_KEEP_SECONDS,
  STORAGE_MARGIN_SECONDS,
} from "../constants";
import { parseHttpDate } from "./http-date";
import {
  DELTA_SECONDS_MAX,
  deltaSeconds,
  fieldNames,
  parseCacheControl,
  parseTargetedCacheControl,
  type Directives,
} from "./cache-control";
import type { EntryMeta } from "./entry";

/**
 * Status codes Brim stores. RFC 9110 §15.1 lists the heuristically cacheable ones; 302 and
 * 307 are stored only with explicit freshness. 206 is never stored: Brim stores whole responses
 * and answers Range from them (src/pipeline/range.ts).
 */
const AGE_RE = /^[0-9]+$/;
const HEURISTIC_STATUSES = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);
const EXPLICIT_ONLY_STATUSES = new Set([302, 307]);

export type NotStorableReason =
  | "method"
  | "status"
  | "request-no-store"
  | "no-store"
  | "private"
  | "set-cookie"
  | "vary-star"
  | "authorization"
  | "no-freshness"
  | "too-large"
  | "headers-too-large";

export type Storability =
  | { readonly storable: true; readonly meta: EntryMeta; readonly storageSeconds: number; readonly stripHeaders: readonly string[] }
  | { readonly storable: false; readonly reason: NotStorableReason };

/** What a route says about storing (a route's `CachePolicy`, structurally). */
export interface StoragePolicy {
  /** Route TTL and windows replace the origin's (`override`) or only fill in for them. */
  readonly override: boolean;
  readonly ttlSeconds: number | null;
  readonly staleWhileRevalidateSeconds: number | null;
  readonly staleIfErrorSeconds: number | null;
  /** In [0, 1): the lifetime is shortened by up to this fraction. */
  readonly ttlJitter: number;
  readonly maxObjectBytes: number;
}

export interface StorabilityInput {
  readonly method: string;
  readonly status: number;
  readonly headers: Headers;
  /** When the request was sent to the origin / when its response arrived, epoch ms. */
  readonly requestTime: number;
  readonly responseTime: number;
  readonly policy: StoragePolicy;
  /** The request carried Authorization (RFC 9111 §3.5). */
  readonly requestHasAuthorization: boolean;
  /** The request said no-store and the route honours request directives. */
  readonly requestNoStore: boolean;
  /** In [0, 1); used for TTL jitter. */
  readonly random: number;
}

/** The directive set Brim obeys: a valid CDN-Cache-Control replaces Cache-Control (RFC 9213 §2.1). */
export function responseDirectives(headers: Headers): { directives: Directives; targeted: boolean } {
  const targeted = parseTargetedCacheControl(headers.get("cdn-cache-control"));
  if (targeted) return { directives: targeted, targeted: true };
  return { directives: parseCacheControl(headers.get("cache-control")), targeted: false };
}

/**
 * Decides whether a response may be stored by a shared cache (RFC 9111 §3) and, if so,
 * computes the metadata that later freshness decisions need.
 */
export function analyzeResponse(input: StorabilityInput): Storability {
  const { headers, policy } = input;
  if (input.method !== "GET") return no("method");
  if (input.requestNoStore) return no("request-no-store");
  const { directives: cc, targeted } = responseDirectives(headers);
  if (cc.has("no-store")) return no("no-store");
  const privateFields = fieldNames(cc, "private");
  if (privateFields !== null && privateFields.length === 0) return no("private");
  const noCacheFields = fieldNames(cc, "no-cache");
  // Brim's own rule: a Set-Cookie response is not stored, unless the origin named Set-Cookie
  // in a qualified private or no-cache, which says the rest of the response is shareable and
  // only that field is not (RFC 9111 §5.2.2.7, §5.2.2.4); it is then stripped like any other.
  const cookieStripped = privateFields?.includes("set-cookie") || noCacheFields?.includes("set-cookie");
  if (headers.has("set-cookie") && !cookieStripped) return no("set-cookie");
  const varyNames = parseVary(headers.get("vary"));
  if (varyNames.includes("*")) return no("vary-star");
  const sMaxAge = cc.has("s-maxage");
  const authOk = cc.has("public") || sMaxAge || cc.has("must-revalidate");
  if (input.requestHasAuthorization && !authOk) return no("authorization");
  const length = Number(headers.get("content-length") ?? "0");
  if (length > policy.maxObjectBytes) return no("too-large");
  if (oversizedHeaders(headers)) return no("headers-too-large");

  const date = parseHttpDate(headers.get("date")) ?? input.responseTime;
  const originLifetime = explicitLifetime(cc, targeted ? null : headers.get("expires"), date);
  const explicit = originLifetime !== null;
  let lifetime: number;
  let swr: number;
  let sie: number;
  let noStale: boolean;
  let noCache: boolean;
  if (policy.override) {
    lifetime = policy.ttlSeconds ?? originLifetime ?? 0;
    swr = policy.staleWhileRevalidateSeconds ?? deltaSeconds(cc, "stale-while-revalidate") ?? 0;
    sie = policy.staleIfErrorSeconds ?? deltaSeconds(cc, "stale-if-error") ?? 0;
    noStale = false;
    noCache = false;
  } else {
    lifetime = originLifetime ?? policy.ttlSeconds ?? 0;
    swr = deltaSeconds(cc, "stale-while-revalidate") ?? policy.staleWhileRevalidateSeconds ?? 0;
    sie = deltaSeconds(cc, "stale-if-error") ?? policy.staleIfErrorSeconds ?? 0;
    noStale = sMaxAge || cc.has("must-revalidate") || cc.has("proxy-revalidate");
    noCache = noCacheFields?.length === 0;
  }
  const hasValidator = headers.has("etag") || headers.has("last-modified");
  const statusOk = HEURISTIC_STATUSES.has(input.status) || (EXPLICIT_ONLY_STATUSES.has(input.status) && (explicit || policy.override));
  if (!statusOk) return no("status");
  // No default TTL: without freshness a response is kept only to be revalidated cheaply.
  if (lifetime <= 0 && !hasValidator && swr === 0 && sie === 0) return no("no-freshness");
  if (lifetime > 0 && policy.ttlJitter > 0) {
    lifetime = Math.max(1, Math.round(lifetime * (1 - input.random * policy.ttlJitter)));
  }
  // RFC 9111 §4.2.4 / §5.2.2.4: never served stale without validation, whatever the windows.
  if (noStale || noCache) {
    swr = 0;
    sie = 0;
  }

  const meta: EntryMeta = {
    v: 2,
    responseTime: input.responseTime,
    initialAge: correctedInitialAge(headers, date, input.requestTime, input.responseTime),
    lifetime,
    swr,
    sie,
    noStale,
    noCache,
    authOk,
    vary: varyNames,
    headers: {
      cacheControl: headers.get("cache-control"),
      expires: headers.get("expires"),
      vary: headers.get("vary"),
    },
  };
  const keep = Math.max(swr, sie, hasValidator ? REVALIDATION_KEEP_SECONDS : 0);
  const storageSeconds = Math.min(MAX_STORAGE_SECONDS, lifetime + keep + STORAGE_MARGIN_SECONDS);
  // RFC 9111 §5.2.2.7 / §5.2.2.4: qualified private / no-cache name fields that must not be reused.
  const stripHeaders = [...(privateFields ?? []), ...(noCacheFields ?? [])];
  return { storable: true, meta, storageSeconds, stripHeaders };
}

/**
 * Freshness lifetime from s-maxage, max-age or Expires (RFC 9111 §4.2.1), or null when the
 * response has none. An invalid max-age or Expires makes the response stale (lifetime 0).
 */
export function explicitLifetime(cc: Directives, expires: string | null, dateMs: number): number | null {
  for (const name of ["s-maxage", "max-age"]) {
    if (cc.has(name)) return deltaSeconds(cc, name) ?? 0;
  }
  if (expires !== null) {
    const at = parseHttpDate(expires);
    return at === null ? 0 : Math.max(0, Math.floor((at - dateMs) / 1000));
  }
  return null;
}

/** corrected_initial_age (RFC 9111 §4.2.3), seconds. */
export function correctedInitialAge(headers: Headers, dateMs: number, requestTime: number, responseTime: number): number {
  const ageValue = parseAge(headers.get("age")) ?? 0;
  const apparentAge = Math.max(0, (responseTime - dateMs) / 1000);
  const responseDelay = Math.max(0, (responseTime - requestTime) / 1000);
  return Math.max(apparentAge, ageValue + responseDelay);
}

/**
 * The Age field (RFC 9111 §5.1): delta-seconds, saturating at 2^31 (§1.2.2). Of a list-based
 * value only the first member counts; a value that is not a non-negative integer (`1.5`,
 * `-1`, `7200.0`, `abc`) is ignored (null), never read as a number it merely starts with.
 */
export function parseAge(value: string | null): number | null {
  if (value === null) return null;
  const first = value.split(",", 1)[0]!.trim();
  if (!AGE_RE.test(first)) return null;
  return Math.min(Number(first), DELTA_SECONDS_MAX);
}

/** Lower-cased, sorted, de-duplicated field names of a Vary header. */
export function parseVary(value: string | null): string[] {
  if (!value) return [];
  const names = new Set<string>();
  for (const part of value.split(",")) {
    const name = part.trim().toLowerCase();
    if (name) names.add(name);
  }
  return [...names].sort();
}

/**
 * A header section past MAX_STORED_HEADER_FIELDS fields or MAX_STORED_HEADER_BYTES bytes is
 * not stored: it would be replayed on every hit, and the Cache API has its own header limits.
 */
function oversizedHeaders(headers: Headers): boolean {
  let fields = 0;
  let bytes = 0;
  for (const [name, value] of headers) {
    fields += 1;
    bytes += name.length + value.length + 4;
    if (fields > MAX_STORED_HEADER_FIELDS || bytes > MAX_STORED_HEADER_BYTES) return true;
  }
  return false;
}

function no(reason: NotStorableReason): Storability {
  return { storable: false, reason };
}
