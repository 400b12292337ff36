import { SHARED_FETCH_REQUEST_HEADERS } from "../constants";
import type { Route, Tenant } from "../tenant/types";

/** Built once per route (config objects live as long as the isolate's config). */
const byRoute = new WeakMap<Route, ReadonlySet<string>>();

/**
 * The client request headers that may reach the origin when Brim fetches a response it may
 * share (a cacheable route's miss or revalidation): the standard ones in
 * `SHARED_FETCH_REQUEST_HEADERS`, the route's `key.headers` (keyed, so they cannot leak into
 * another key's response), its `cache.forwardUnkeyed` (the tenant states the origin does not
 * use them for the response), and the tenant's forwarded-claim headers (set by src/auth/ from
 * a verified token, never by the client). Everything else is dropped, as unkeyed query
 * parameters are. Brim's own fields (X-Forwarded-*, validators, Host) are set after this.
 */
export function sharedRequestHeaders(tenant: Tenant, route: Route): ReadonlySet<string> {
  let names = byRoute.get(route);
  if (!names) {
    names = new Set([
      ...SHARED_FETCH_REQUEST_HEADERS,
      ...(route.cache?.key.headers ?? []),
      ...(route.cache?.forwardUnkeyed ?? []),
      ...(tenant.auth?.forward.claims.map((c) => c.header) ?? []),
    ]);
    byRoute.set(route, names);
  }
  return names;
}
