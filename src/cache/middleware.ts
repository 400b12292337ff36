import type { Handler } from "hono";
import type { AppEnv } from "../env";
import { invalidateCoalescer } from "../coalesce/client";
import { clientAcceptEncoding, negotiateEncoding, type Chosen } from "../compress/accept-encoding";
import { represent } from "../compress/represent";
import { DEFAULT_MAX_OBJECT_BYTES } from "../constants";
import { rawPathOf, withPath } from "../http/path";
import { forwardToOrigin } from "../origin/forward";
import type { CompressionPolicy } from "../tenant/types";
import { wire } from "./fill";
import type { TenantResolver } from "../tenant/match";
import type { Tenant } from "../tenant/types";
import type { CacheDeps, CacheRequest } from "./context";
import { NO_REQUEST_DIRECTIVES, parseRequestDirectives } from "./freshness";
import { handleCacheable } from "./handler";
import { invalidationTargets } from "./invalidate";
import { cacheKey, normalizePath, type KeyIdentity } from "./key";
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
    const compression = route.compression;
    const coding = compression ? negotiateEncoding(clientAcceptEncoding(request), compression.encodings) : null;
    // Set by src/auth/ on auth routes: claim values for the key (never the token), or "bypass"
    // when the origin sees a credential this cache cannot account for.
    const auth = c.var.auth?.cache;
    const identity = auth === "bypass" ? undefined : auth;
    if (!policy || !cacheable || request.headers.has("range") || auth === "bypass") {
      const status: CacheStatus = !policy ? { fwd: "bypass" } : !cacheable ? { fwd: "method" } : auth === "bypass" ? { fwd: "bypass", detail: "credentials" } : { fwd: "bypass", detail: "range" };
      const result = await forwardToOrigin(request, route, deps.fetcher);
      if (!result.ok) deps.log({ event: "origin-error", tenant: tenant.id, route: route.path, code: result.error.code, detail: result.error.detail });
      if (result.ok && !SAFE_METHODS.has(method)) {
        // Before answering, so the client's next request (often a 303's GET) sees the change.
        await invalidate(deps, resolver, tenant, invalidationTargets(request.url, result.response.status, result.response.headers), request.headers, identity);
      }
      const response = result.ok && compression && coding !== null ? shaped(result.response, coding, compression) : new Response(result.response.body, result.response);
      appendCacheStatus(response.headers, result.ok ? status : { ...status, detail: result.error.code === "ORIGIN_TIMEOUT" ? "origin-timeout" : "origin-unreachable" });
      return response;
    }
    const key = await cacheKey(tenant.id, new URL(request.url), policy.key, request.headers, identity);
    const directives = policy.ignoreRequestDirectives ? NO_REQUEST_DIRECTIVES : parseRequestDirectives(request.headers.get("cache-control"));
    let varyHeaders = request.headers;
    if (coding !== null) {
      varyHeaders = new Headers(request.headers);
      varyHeaders.set("accept-encoding", coding);
    }
    const waitUntil = (p: Promise<unknown>): void => c.executionCtx.waitUntil(p);
    const purge = await purgeContext(deps, tenant.id, new URL(request.url).pathname, key.search, waitUntil);
    return handleCacheable(
      { request, tenant, route, policy, key, directives, coding, varyHeaders, waitUntil, ...(purge ? { purge } : {}) },
      deps,
    );
  };
}

/**
 * Deletes the stored entries for each target on a cacheable route, under the key that route
 * uses, and tells the key's Coalescer to forget what it keeps. Never throws. Note: `Cache.delete`
 * reaches one data center; deployment-wide purge is the purge issue's work.
 */
async function invalidate(deps: CacheDeps, resolver: TenantResolver, tenant: Tenant, targets: readonly URL[], headers: Headers, identity?: KeyIdentity): Promise<void> {
  const cached = targets.flatMap((target) => {
    // Keyed as a request for the target would be: its canonical path, its route's policy.
    const resolved = resolver.resolvePath(tenant, rawPathOf(target.href));
    if (!resolved.ok || !resolved.route.cache) return [];
    return [{ target: new URL(withPath(target.href, resolved.path)), policy: resolved.route.cache }];
  });
  if (cached.length === 0) return;
  try {
    const store = await deps.store();
    await Promise.all(
      cached.map(async ({ target, policy }) => {
        const key = (await cacheKey(tenant.id, target, policy.key, headers, identity)).url;
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

/** The tenant's purge marks for this request (usually without I/O; see src/purge/client.ts). */
async function purgeContext(deps: CacheDeps, tenantId: string, pathname: string, search: string, waitUntil: (p: Promise<unknown>) => void): Promise<CacheRequest["purge"] | null> {
  if (!deps.purges) return null;
  const snapshot = await deps.purges.view(tenantId, { now: deps.now(), waitUntil, log: deps.log });
  return { snapshot, gen: snapshot.seq, url: `${normalizePath(pathname)}${search}` };
}

/** A proxied (uncached) response, compressed for the client when the route allows it. */
function shaped(response: Response, chosen: Chosen, policy: CompressionPolicy): Response {
  const out = represent(response, { chosen, policy, maxDecodedBytes: DEFAULT_MAX_OBJECT_BYTES });
  return new Response(out.response.body, { status: out.response.status, statusText: out.response.statusText, headers: out.response.headers, encodeBody: wire(out.encoded) });
}
