import type { Handler } from "hono";
import type { AppEnv } from "../env";
import { invalidateCoalescer } from "../coalesce/client";
import { clientAcceptEncoding, negotiateEncoding, type Chosen } from "../http/accept-encoding";
import { forClient, represent } from "../compress/represent";
import type { BrimError } from "../errors";
import { BODY_FAULT_EVENTS, type BodyFault } from "../http/body";
import { DEFAULT_MAX_OBJECT_BYTES } from "../constants";
import { rawPathOf, withPath } from "../http/path";
import { forwardToOrigin, type ForwardResult } from "../origin/forward";
import type { Route } from "../tenant/types";
import { answerOpaque, failureDetail, wire } from "./fill";
import type { TenantResolver } from "../tenant/match";
import type { Tenant } from "../tenant/types";
import { bypassStatus } from "./bypass";
import { hidePurgeTags } from "./client-headers";
import type { CacheDeps, CacheRequest } from "./context";
import { NO_REQUEST_DIRECTIVES, parseRequestDirectives } from "../http/freshness";
import { handleCacheable } from "./cacheable";
import { invalidationTargets } from "../cache/invalidate";
import { normalizePath } from "../http/key-material";
import type { KeyIdentity } from "../tenant/types";
import { cacheKey } from "../cache/key";
import type { CacheStatus } from "../http/cache-status";
import type { RequestOutcome } from "../env";
import { tag } from "./outcome";

export interface EdgeCacheOptions {
  readonly deps: CacheDeps;
  /** Used to find the route (and so the key policy) of Location targets to invalidate. */
  readonly resolver: TenantResolver;
}

/** RFC 9110 §9.2.1. Every other method, known or not, invalidates (RFC 9111 §4.4). */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/**
 * The last handler: GET/HEAD on cacheable routes go through the cache; everything else is
 * proxied with `Cache-Status: fwd=bypass` (uncached route, Range, credentials, Cookie; see
 * `bypassStatus`) or `fwd=method` (other methods on cacheable routes). Unsafe methods also invalidate what they change (RFC 9111
 * §4.4), on any route: a POST to an uncached `/api/items` may name a cached item in Location.
 */
export function edgeCache({ deps, resolver }: EdgeCacheOptions): Handler<AppEnv> {
  return async function edgeCache(c) {
    const { tenant, route } = c.var;
    const request = c.req.raw;
    const policy = route.cache;
    const method = request.method;
    const compression = route.compression;
    const coding = compression ? negotiateEncoding(clientAcceptEncoding(request), compression.encodings) : null;
    // Set by src/auth/ on auth routes: claim values for the key (never the token), or "bypass"
    // when the origin sees a credential this cache cannot account for.
    const auth = c.var.auth?.cache;
    const identity = auth === "bypass" ? undefined : auth;
    const status = bypassStatus(request, policy, auth);
    if (status || !policy) {
      const logFailure = (event: Record<string, unknown>) => {
        deps.log({ ...event, tenant: tenant.id, route: route.path });
        const kind = event.event === "origin-error" ? `origin-error:${String(event.code)}` : String(event.event);
        deps.onFailure?.(tenant.id, route.path, kind);
      };
      const started = Date.now();
      const result = await forwardToOrigin(request, route, deps.fetcher, (fault) => logFailure({ event: BODY_FAULT_EVENTS[fault.kind], detail: fault.message }));
      c.var.outcome.originMs = Date.now() - started;
      if (result.ok && !SAFE_METHODS.has(method)) {
        // Before answering, so the client's next request (often a 303's GET) sees the change.
        await invalidate(deps, resolver, tenant, invalidationTargets(request.url, result.response.status, result.response.headers), request.headers, identity);
      }
      return hidePurgeTags(proxied(c.var.outcome, request, route, coding, result, status ?? { fwd: "bypass" }, logFailure));
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
    const response = await handleCacheable(
      { request, outcome: c.var.outcome, tenant, route, policy, key, directives, coding, varyHeaders, waitUntil, ...(purge ? { purge } : {}) },
      deps,
    );
    return hidePurgeTags(response);
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

/**
 * The client's answer for a request the cache does not handle: the origin's bytes when the
 * client accepts their coding, decoded (within the route's limits) when it does not, and
 * compressed as negotiated on compressing routes.
 */
function proxied(outcome: RequestOutcome, request: Request, route: Route, coding: Chosen | null, result: ForwardResult, status: CacheStatus, logFailure: (event: Record<string, unknown>) => void): Response {
  const logError = (error: BrimError) => logFailure({ event: "origin-error", code: error.code, detail: error.detail });
  if (!result.ok) {
    logError(result.error);
    tag(outcome, result.response.headers, { ...status, detail: failureDetail(result.error.code) });
    return result.response;
  }
  const limits = { maxBytes: route.cache?.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES, onFault: (fault: BodyFault) => logFailure({ event: BODY_FAULT_EVENTS[fault.kind], detail: fault.message }) };
  const out = route.compression && coding !== null
    ? represent(result.response, { chosen: coding, policy: route.compression, limits })
    : forClient(result.response, clientAcceptEncoding(request), limits);
  if (out.kind === "opaque") return answerOpaque(outcome, request, result.response, out.codings, status, logError);
  const response = new Response(out.response.body, { status: out.response.status, statusText: out.response.statusText, headers: out.response.headers, encodeBody: wire(out.encoded) });
  tag(outcome, response.headers, status);
  return response;
}
