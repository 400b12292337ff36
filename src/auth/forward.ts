/**
 * What the cache and the origin see after auth: the request with client-sent copies of the
 * forwarded-claim headers removed (always, on every route of the tenant, so they cannot be
 * spoofed), the verified claims set in their place, and the token removed when it must not
 * reach the origin; plus how the cache may key the response (`RequestAuth.cache`).
 */
import type { KeyIdentity } from "../tenant/types";
import type { Route, TenantAuth } from "../tenant/types";
import type { AuthOutcome } from "./authenticate";
import type { Claims } from "./claims";
import { withoutCookie } from "./token";

/** Set as the `auth` variable for the cache middleware and anything after it. */
export interface RequestAuth {
  /** Verified claims, or null for an anonymous request on an `optional` route. */
  readonly claims: Claims | null;
  /**
   * Cache key material for this request (claim values, never the token), or "bypass" when
   * the origin sees a credential the cache cannot account for (see `cacheIdentity`).
   */
  readonly cache: KeyIdentity | "bypass";
}

/** Visible ASCII and spaces: what a header value may carry verbatim. */
const PLAIN_VALUE = /^[\x20-\x7e]*$/;

/** Builds the request handed on to the cache and origin. Returns `request` itself when unchanged. */
export function upstreamRequest(
  request: Request,
  auth: TenantAuth,
  route: Route,
  outcome: Exclude<AuthOutcome, { kind: "failed" }> | null,
): Request {
  const forwarded = auth.forward.claims;
  const verified = outcome?.kind === "verified" ? outcome : null;
  const strip = verified !== null && tokenStripped(auth, route);
  const unchanged = !strip && (forwarded.length === 0 || (verified === null && !forwarded.some((f) => request.headers.has(f.header))));
  if (unchanged) return request;
  const headers = new Headers(request.headers);
  for (const { header } of forwarded) headers.delete(header);
  if (verified) {
    for (const { claim, header } of forwarded) {
      const value = headerValue(verified.claims[claim]);
      if (value !== null) headers.set(header, value);
    }
  }
  if (strip) {
    if (verified?.source === "header") headers.delete(auth.token.header);
    const cookie = headers.get("cookie");
    if (cookie !== null && auth.token.cookie !== null) {
      const rest = withoutCookie(cookie, auth.token.cookie);
      if (rest === null) headers.delete("cookie");
      else headers.set("cookie", rest);
    }
  }
  return new Request(request, { headers });
}

/**
 * The token never reaches the origin with `stripAuthorization`, nor on a claims-keyed route:
 * there one stored response serves every request with the same claim values, so the origin
 * must answer from the forwarded claims, not from a particular token.
 */
export function tokenStripped(auth: TenantAuth, route: Route): boolean {
  return auth.forward.stripAuthorization || (route.cache?.key.claims?.length ?? 0) > 0;
}

/**
 * How the cache treats a request on an auth route (RFC 9111 §3.5 reasoning):
 * - anonymous: its own key space, so it never gets what a verified request stored;
 * - claims-keyed route: keyed on those claims' values; stored and reused per value;
 * - token stripped: the origin can tell requests apart only by the forwarded claims, so the
 *   key carries all of their values;
 * - token forwarded in Authorization: the cache's own Authorization rule applies (stored
 *   and shared only when the origin says public / s-maxage / must-revalidate);
 * - token forwarded in a cookie or another header: the cache cannot see it is a credential,
 *   so the request bypasses the cache.
 */
export function cacheIdentity(auth: TenantAuth, route: Route, outcome: Exclude<AuthOutcome, { kind: "failed" }>): KeyIdentity | "bypass" {
  if (outcome.kind === "anonymous") return { verified: false, claims: [] };
  const keyed = route.cache?.key.claims ?? [];
  if (keyed.length > 0) return { verified: true, claims: keyed.map((name) => [name, outcome.claims[name]] as const) };
  if (auth.forward.stripAuthorization)
    return { verified: true, claims: auth.forward.claims.map(({ claim }) => [claim, outcome.claims[claim]] as const) };
  if (outcome.source === "header" && auth.token.header === "authorization") return { verified: true, claims: [] };
  return "bypass";
}

/**
 * A claim as a header value: strings as they are when plain ASCII (else percent-encoded),
 * numbers and booleans as text, arrays of those joined with ","; anything else (objects,
 * null) is not forwarded.
 */
export function headerValue(value: unknown): string | null {
  if (typeof value === "string") return PLAIN_VALUE.test(value) ? value : encodeURIComponent(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === "string" || typeof v === "number" || typeof v === "boolean")) {
    return value.map((v) => headerValue(v)).join(",");
  }
  return null;
}
