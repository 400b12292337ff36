import { invalidateCoalescer, throughCoalescer } from "../coalesce/client";
import type { CoalesceMode } from "../coalesce/protocol";
import type { BrimError, OriginErrorCode } from "../errors";
import { BODY_FAULT_EVENTS, declaredLength, guardBody, type BodyFault } from "../http/body";
import { fetchOrigin } from "../http/fetch";
import { sharedRequestHeaders } from "../origin/forward-headers";
import { buildOriginRequest, type OriginRequestOptions } from "../origin/request";
import type { CacheDeps, CacheRequest } from "./context";

interface Shared {
  /** The response came from another request's fetch (RFC 9211 `collapsed`). */
  readonly collapsed: boolean;
  /** Whether this request writes the cache (one writer per data center per fetch). */
  readonly store: boolean;
  /** Cache-Status detail, e.g. `coalesce-fallback`. */
  readonly detail?: string;
}

export type OriginResult =
  | ({ readonly ok: true; readonly response: Response; readonly requestTime: number; readonly responseTime: number } & Shared)
  | ({ readonly ok: false; readonly error: BrimError<OriginErrorCode> } & Shared);

/**
 * Fetches a full (or, with validators, conditional) GET for the cache. With coalescing on,
 * the key's Durable Object makes one origin fetch for all concurrent callers; when it cannot
 * share the answer with this request, or fails, or is too slow, this request fetches for
 * itself. Never throws. Returns null only in `background` mode, when another refresh of the
 * key is already running or just finished.
 */
export function fetchForCache(req: CacheRequest, deps: CacheDeps, validators?: OriginRequestOptions["validators"]): Promise<OriginResult>;
export function fetchForCache(
  req: CacheRequest,
  deps: CacheDeps,
  validators: OriginRequestOptions["validators"] | undefined,
  mode: CoalesceMode,
): Promise<OriginResult | null>;
export async function fetchForCache(
  req: CacheRequest,
  deps: CacheDeps,
  validators?: OriginRequestOptions["validators"],
  mode: CoalesceMode = "fetch",
): Promise<OriginResult | null> {
  const originRequest = buildOriginRequest(req.request, req.route, {
    search: req.key.search,
    forCache: true,
    method: "GET",
    // The response may be shared: only headers it may depend on reach the origin.
    forward: sharedRequestHeaders(req.tenant, req.route),
    ...(validators ? { validators } : {}),
  });
  // Compressing routes make their own variants: ask for gzip, which the runtime decodes for
  // us, so Brim always starts from identity bytes whatever the client sent.
  if (req.coding !== null) originRequest.headers.set("accept-encoding", "gzip");
  const requestTime = deps.now();
  // The runtime clock (advanced across I/O), for the origin time in the request's outcome.
  const started = Date.now();
  let detail: string | undefined;
  const coalesce = req.policy.coalesce;
  if (coalesce && deps.coalescer) {
    const outcome = await throughCoalescer({
      namespace: deps.coalescer,
      key: req.key.url,
      originRequest,
      mode,
      timeoutMs: req.route.timeoutMs,
      bodyIdleTimeoutMs: req.route.bodyIdleTimeoutMs,
      waitMs: coalesce.waitMs,
      policy: req.policy,
      // One writer per data center and per coding variant.
      colo: `${coloOf(req.request)}/${req.coding ?? ""}`,
      now: requestTime,
      mustValidate: req.directives.noCache || req.directives.maxAge !== null || req.directives.minFresh !== null,
      clientHeaders: req.varyHeaders,
    });
    switch (outcome.kind) {
      case "response":
        if (!outcome.collapsed) req.outcome.originMs = Date.now() - started;
        // The object guarded the origin's body; this side guards the hop from the object (a
        // body cut between the two must not end cleanly here either).
        return {
          ok: true,
          response: guarded(outcome.response, req, deps),
          requestTime,
          responseTime: deps.now(),
          collapsed: outcome.collapsed,
          store: outcome.store,
        };
      case "failed":
        logOriginError(req, deps, outcome.error);
        return { ok: false, error: outcome.error, collapsed: outcome.collapsed, store: false };
      case "skipped":
        return null;
      case "fallback":
        deps.log({
          event: "coalesce-fallback",
          tenant: req.tenant.id,
          route: req.route.path,
          reason: outcome.reason,
          detail: outcome.detail,
        });
        detail = "coalesce-fallback";
        break;
      case "direct":
        break;
    }
  }
  const fetched = await fetchOrigin(deps.fetcher, originRequest, {
    timeoutMs: req.route.timeoutMs,
    bodyIdleTimeoutMs: req.route.bodyIdleTimeoutMs,
    onFault: faultLogger(req, deps),
  });
  req.outcome.originMs = Date.now() - started;
  if (!fetched.ok) {
    logOriginError(req, deps, fetched.error);
    return { ok: false, error: fetched.error, collapsed: false, store: false, ...(detail ? { detail } : {}) };
  }
  return {
    ok: true,
    response: fetched.response,
    requestTime,
    responseTime: deps.now(),
    collapsed: false,
    store: true,
    ...(detail ? { detail } : {}),
  };
}

/**
 * Logs a body fault once, under its stable event name (docs/caching.md "Integrity"). With coalescing on,
 * the key's object is also told to forget the response: it may hold bytes that arrived whole
 * but that this side refused (a decode limit), and the next request must fetch again.
 */
export function faultLogger(req: CacheRequest, deps: CacheDeps): (fault: BodyFault) => void {
  return (fault) => {
    deps.log({ event: BODY_FAULT_EVENTS[fault.kind], tenant: req.tenant.id, route: req.route.path, detail: fault.message });
    deps.onFailure?.(req.tenant.id, req.route.path, BODY_FAULT_EVENTS[fault.kind]);
    if (req.policy.coalesce && deps.coalescer) req.waitUntil(invalidateCoalescer(deps.coalescer, req.key.url, deps.now()));
  };
}

function guarded(response: Response, req: CacheRequest, deps: CacheDeps): Response {
  if (!response.body) return response;
  const body = guardBody(response.body, {
    expectedBytes: declaredLength(response.headers),
    idleTimeoutMs: req.route.bodyIdleTimeoutMs,
    onFault: faultLogger(req, deps),
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers, encodeBody: "manual" });
}

export function logOriginError(req: CacheRequest, deps: CacheDeps, error: BrimError<OriginErrorCode>): void {
  deps.log({ event: "origin-error", tenant: req.tenant.id, route: req.route.path, code: error.code, detail: error.detail });
  deps.onFailure?.(req.tenant.id, req.route.path, `origin-error:${error.code}`);
}

/** Cloudflare's data center for this request; "" locally, where there is only one. */
function coloOf(request: Request): string {
  const cf = (request as Request & { cf?: { colo?: unknown } }).cf;
  return typeof cf?.colo === "string" ? cf.colo : "";
}
