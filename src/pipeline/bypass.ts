import type { CachePolicy } from "../tenant/types";
import type { KeyIdentity } from "../tenant/types";
import type { CacheStatus } from "../http/cache-status";

/**
 * Why a request skips the cache and is proxied as sent, as its `Cache-Status`; null when the
 * cache handles it. In order: uncached route; a method other than GET/HEAD (`fwd=method`); a
 * credential the cache cannot account for (src/auth/ says "bypass"); a `Cookie` on a
 * route that has not said its origin ignores cookies (`cache.cookies`, default "bypass", as
 * Varnish's built-in VCL passes every request with a Cookie): an origin may personalise on
 * it, and keying on it would put credentials into keys.
 */
export function bypassStatus(request: Request, policy: CachePolicy | null, auth: KeyIdentity | "bypass" | undefined): CacheStatus | null {
  if (!policy) return { fwd: "bypass" };
  if (request.method !== "GET" && request.method !== "HEAD") return { fwd: "method" };
  if (auth === "bypass") return { fwd: "bypass", detail: "credentials" };
  if (policy.cookies === "bypass" && request.headers.has("cookie")) return { fwd: "bypass", detail: "cookie" };
  return null;
}
