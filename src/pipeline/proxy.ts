import type { Context } from "hono";
import { invalidateCoalescer } from "../coalesce/client";
import { forClient, represent } from "../compress/represent";
import { DEFAULT_MAX_OBJECT_BYTES } from "../constants";
import type { AppEnv, RequestOutcome } from "../env";
import type { BrimError, OriginErrorCode } from "../errors";
import { invalidationTargets } from "../cache/invalidate";
import { cacheKey } from "../cache/key";
import { clientAcceptEncoding, type Chosen } from "../http/accept-encoding";
import { BODY_FAULT_EVENTS, type BodyFault } from "../http/body";
import { rawPathOf, withPath } from "../http/path";
import type { CacheStatus } from "../http/cache-status";
import { forwardToOrigin, type ForwardResult } from "../origin/forward";
import type { TenantResolver } from "../tenant/match";
import type { KeyIdentity, Route, Tenant } from "../tenant/types";
import type { CacheDeps } from "./context";
import { answerOpaque, failureDetail, wire } from "./fill";
import { tag } from "./outcome";
import { coloOf } from "./upstream";

/** RFC 9110 §9.2.1. Every other method, known or not, invalidates (RFC 9111 §4.4). */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/**
 * A request the cache does not handle, proxied as sent (method, path, query, body, the
 * client's own conditionals). Unsafe methods also invalidate what they change (RFC 9111
 * §4.4), on any route, before the answer goes out: a POST to an uncached `/api/items` may name
 * a cached item in Location, and the client's next request (often a 303's GET) must see it.
 */
export async function proxyToOrigin(
  c: Context<AppEnv>,
  deps: CacheDeps,
  resolver: TenantResolver,
  coding: Chosen | null,
  status: CacheStatus,
  identity: KeyIdentity | undefined,
): Promise<Response> {
  const { tenant, route, outcome } = c.var;
  const request = c.req.raw;
  const logFailure = (event: Record<string, unknown>) => {
    deps.log({ ...event, tenant: tenant.id, route: route.path });
    const kind = event.event === "origin-error" ? `origin-error:${String(event.code)}` : String(event.event);
    deps.onFailure?.(tenant.id, route.path, kind);
  };
  const started = Date.now();
  const result = await forwardToOrigin(request, route, deps.fetcher, (fault) =>
    logFailure({ event: BODY_FAULT_EVENTS[fault.kind], detail: fault.message }),
  );
  outcome.originMs = Date.now() - started;
  if (result.ok && !SAFE_METHODS.has(request.method)) {
    await invalidate(
      deps,
      resolver,
      tenant,
      invalidationTargets(request.url, result.response.status, result.response.headers),
      request,
      identity,
    );
  }
  return proxied(outcome, request, route, coding, result, status, logFailure);
}

/**
 * Deletes the stored entries for each target on a cacheable route, under the key that route
 * uses, and tells the key's Coalescer to forget what it keeps. Never throws. Note: `Cache.delete`
 * reaches one data center; deployment-wide purge is the purge issue's work.
 */
async function invalidate(
  deps: CacheDeps,
  resolver: TenantResolver,
  tenant: Tenant,
  targets: readonly URL[],
  request: Request,
  identity?: KeyIdentity,
): Promise<void> {
  const headers = request.headers;
  const dataCenter = (deps.dataCenter ?? coloOf)(request);
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
          policy.coalesce && deps.coalescer
            ? invalidateCoalescer(deps.coalescer, key, deps.now(), dataCenter, policy.coalesce.locationHint)
            : null,
        ]);
      }),
    );
  } catch (error) {
    deps.log({ event: "invalidation-failed", tenant: tenant.id, detail: String(error) });
  }
}

/**
 * The client's answer for a request the cache does not handle: the origin's bytes when the
 * client accepts their coding, decoded (within the route's limits) when it does not, and
 * compressed as negotiated on compressing routes.
 */
function proxied(
  outcome: RequestOutcome,
  request: Request,
  route: Route,
  coding: Chosen | null,
  result: ForwardResult,
  status: CacheStatus,
  logFailure: (event: Record<string, unknown>) => void,
): Response {
  const logError = (error: BrimError<OriginErrorCode>) => logFailure({ event: "origin-error", code: error.code, detail: error.detail });
  if (!result.ok) {
    logError(result.error);
    tag(outcome, result.response.headers, { ...status, detail: failureDetail(result.error.code) });
    return result.response;
  }
  const limits = {
    maxBytes: route.cache?.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES,
    onFault: (fault: BodyFault) => logFailure({ event: BODY_FAULT_EVENTS[fault.kind], detail: fault.message }),
  };
  const out =
    route.compression && coding !== null
      ? represent(result.response, { chosen: coding, policy: route.compression, limits })
      : forClient(result.response, clientAcceptEncoding(request), limits);
  if (out.kind === "opaque") return answerOpaque(outcome, request, result.response, out.codings, status, logError);
  const response = new Response(out.response.body, {
    status: out.response.status,
    statusText: out.response.statusText,
    headers: out.response.headers,
    encodeBody: wire(out.encoded),
  });
  tag(outcome, response.headers, status);
  return response;
}
