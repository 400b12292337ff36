import type { Handler } from "hono";
import type { AppEnv } from "../env";
import { invalidateCoalescer } from "../coalesce/client";
import { forwardToOrigin } from "../origin/forward";
import type { TenantResolver } from "../tenant/match";
import type { Tenant } from "../tenant/types";
import type { CacheDeps } from "./context";
import { NO_REQUEST_DIRECTIVES, parseRequestDirectives } from "./freshness";
import { handleCacheable } from "./handler";
import { invalidationTargets } from "./invalidate";
import { cacheKey } from "./key";
import { appendCacheStatus, type CacheStatus } from "./status";

export interface EdgeCacheOptions {
  readonly deps: CacheDeps;
  /** Used to find the route (and so the key policy) of Location targets to invalidate. */
  readonly resolver: TenantResolver;
}

/** RFC 9110 §9.2.1. Every other method, known or not, invalidates (RFC 9111 §4.4). */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/**
 * The last handler: GET/HEAD on cacheable routes go through the cache; everything else is
 * proxied with `Cache-Status: fwd=bypass` (uncached route, Range) or `fwd=method` (other
 * methods on cacheable routes). Unsafe methods also invalidate what they change (RFC 9111
 * §4.4), on any route: a POST to an uncached `/api/items` may name a cached item in Location.
 */
export function edgeCache({ deps, resolver }: EdgeCacheOptions): Handler<AppEnv> {
  return async function edgeCache(c) {
    const { tenant, route } = c.var;
    const request = c.req.raw;
    const policy = route.cache;
    const method = request.method;
    const cacheable = method === "GET" || method === "HEAD";
    if (!policy || !cacheable || request.headers.has("range")) {
      const status: CacheStatus = !policy ? { fwd: "bypass" } : !cacheable ? { fwd: "method" } : { fwd: "bypass", detail: "range" };
      const result = await forwardToOrigin(request, route, deps.fetcher);
      if (!result.ok) deps.log({ event: "origin-error", tenant: tenant.id, route: route.path, code: result.error.code, detail: result.error.detail });
      if (result.ok && !SAFE_METHODS.has(method)) {
        // Before answering, so the client's next request (often a 303's GET) sees the change.
        await invalidate(deps, resolver, tenant, invalidationTargets(request.url, result.response.status, result.response.headers), request.headers);
      }
      const response = new Response(result.response.body, result.response);
      appendCacheStatus(response.headers, result.ok ? status : { ...status, detail: result.error.code === "ORIGIN_TIMEOUT" ? "origin-timeout" : "origin-unreachable" });
      return response;
    }
    const key = await cacheKey(tenant.id, new URL(request.url), policy.key, request.headers);
    const directives = policy.ignoreRequestDirectives ? NO_REQUEST_DIRECTIVES : parseRequestDirectives(request.headers.get("cache-control"));
    return handleCacheable(
      { request, tenant, route, policy, key, directives, waitUntil: (p) => c.executionCtx.waitUntil(p) },
      deps,
    );
  };
}

/**
 * Deletes the stored entries for each target on a cacheable route, under the key that route
 * uses, and tells the key's Coalescer to forget what it keeps. Never throws. Note: `Cache.delete`
 * reaches one data center; deployment-wide purge is the purge issue's work.
 */
async function invalidate(deps: CacheDeps, resolver: TenantResolver, tenant: Tenant, targets: readonly URL[], headers: Headers): Promise<void> {
  const cached = targets.flatMap((target) => {
    const policy = resolver.routeFor(tenant, target.pathname)?.cache;
    return policy ? [{ target, policy }] : [];
  });
  if (cached.length === 0) return;
  try {
    const store = await deps.store();
    await Promise.all(
      cached.map(async ({ target, policy }) => {
        const key = (await cacheKey(tenant.id, target, policy.key, headers)).url;
        await Promise.all([
          store.delete(key),
          policy.coalesce && deps.coalescer ? invalidateCoalescer(deps.coalescer, key, deps.now()) : null,
        ]);
      }),
    );
  } catch (error) {
    deps.log({ event: "invalidation-failed", tenant: tenant.id, detail: String(error) });
  }
}
