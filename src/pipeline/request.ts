import type { Context } from "hono";
import { cacheKey } from "../cache/key";
import type { AppEnv } from "../env";
import type { Chosen } from "../http/accept-encoding";
import { NO_REQUEST_DIRECTIVES, parseRequestDirectives } from "../http/freshness";
import { normalizePath } from "../http/key-material";
import type { CachePolicy, KeyIdentity } from "../tenant/types";
import type { CacheDeps, CacheRequest } from "./context";

/**
 * Everything the cache needs for one GET/HEAD on a cacheable route, resolved once: the key
 * (src/cache/key.ts), the client's directives (unless the route ignores them), the request
 * headers as Vary sees them (Accept-Encoding replaced by the negotiated coding, so there is one
 * entry per coding), and the tenant's purge marks (usually without I/O; src/purge/client.ts).
 */
export async function cacheRequestFor(
  c: Context<AppEnv>,
  deps: CacheDeps,
  policy: CachePolicy,
  coding: Chosen | null,
  identity: KeyIdentity | undefined,
): Promise<CacheRequest> {
  const { tenant, route, outcome } = c.var;
  const request = c.req.raw;
  const url = new URL(request.url);
  const key = await cacheKey(tenant.id, url, policy.key, request.headers, identity);
  const directives = policy.ignoreRequestDirectives ? NO_REQUEST_DIRECTIVES : parseRequestDirectives(request.headers.get("cache-control"));
  let varyHeaders = request.headers;
  if (coding !== null) {
    varyHeaders = new Headers(request.headers);
    varyHeaders.set("accept-encoding", coding);
  }
  const waitUntil = (p: Promise<unknown>): void => c.executionCtx.waitUntil(p);
  const req: CacheRequest = { request, outcome, tenant, route, policy, key, directives, coding, varyHeaders, waitUntil };
  if (!deps.purges) return withoutSharingIfNoStore(req);
  const snapshot = await deps.purges.view(tenant.id, { now: deps.now(), waitUntil, log: deps.log });
  return withoutSharingIfNoStore({ ...req, purge: { snapshot, gen: snapshot.seq, url: `${normalizePath(url.pathname)}${key.search}` } });
}

/**
 * RFC 9111 §5.2.1.5: no part of the response to a no-store request may be stored. The
 * Coalescer keeps recent responses for late arrivals, so such a request fetches for itself.
 */
function withoutSharingIfNoStore(req: CacheRequest): CacheRequest {
  if (!req.directives.noStore || req.policy.coalesce === null) return req;
  return { ...req, policy: { ...req.policy, coalesce: null } };
}
