import { invalidateCoalescer, throughCoalescer, type CoalesceCall, type CoalesceOutcome } from "../coalesce/client";
import type { CoalesceMode, CoalesceTier } from "../coalesce/protocol";
import { BrimError, type OriginErrorCode } from "../errors";
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
 * Fetches a full (or, with validators, conditional) GET for the cache. With coalescing on, the
 * request asks its data center's Coalescer for the key, which collapses the data center's
 * misses and asks the key's global Coalescer, which makes one origin fetch for the deployment
 * (docs/coalescing.md). When the answer cannot be shared with this request, this request
 * fetches for itself. When the coalescing tiers fail (overloaded, unreachable: the data
 * center's object, then one retry straight to the global one), nobody fetches the origin on
 * their own: with `staleOk` the result is `COALESCE_UNAVAILABLE` so the caller serves its stale
 * entry; otherwise too, a 503 (a wait past `waitMs` alone still fetches for itself, as
 * configured, unless `staleOk`). Never throws. Returns null only in `background` mode, when
 * another refresh of the key is running or just finished, or the tiers are unavailable.
 */
export function fetchForCache(req: CacheRequest, deps: CacheDeps, validators?: OriginRequestOptions["validators"]): Promise<OriginResult>;
export function fetchForCache(
  req: CacheRequest,
  deps: CacheDeps,
  validators: OriginRequestOptions["validators"] | undefined,
  mode: "fetch",
  staleOk: boolean,
): Promise<OriginResult>;
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
  staleOk = false,
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
    const dataCenter = (deps.dataCenter ?? coloOf)(req.request);
    const call: CoalesceCall = {
      namespace: deps.coalescer,
      key: req.key.url,
      originRequest,
      mode,
      timeoutMs: req.route.timeoutMs,
      bodyIdleTimeoutMs: req.route.bodyIdleTimeoutMs,
      waitMs: coalesce.waitMs,
      policy: req.policy,
      dataCenter,
      // One writer per data center and per coding variant.
      colo: `${dataCenter}/${req.coding ?? ""}`,
      now: requestTime,
      mustValidate: req.directives.noCache || req.directives.maxAge !== null || req.directives.minFresh !== null,
      clientHeaders: req.varyHeaders,
      locationHint: coalesce.locationHint,
    };
    let tier: CoalesceTier = "colo";
    let outcome = await throughCoalescer(call, tier);
    if (outcome.kind === "fallback" && outcome.reason === "coalesce-error" && !outcome.overloaded) {
      // The data center's object failed (reset, unreachable): one retry, straight to the global
      // tier. Not when it said it is overloaded: those callers would pile onto the global object.
      logFallback(req, deps, "colo", outcome);
      tier = "global";
      outcome = await throughCoalescer({ ...call, waitMs: Math.max(1, coalesce.waitMs - (Date.now() - started)) }, tier);
    }
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
      case "unavailable":
      case "fallback": {
        logFallback(req, deps, outcome.kind === "unavailable" ? "global" : tier, outcome);
        // A background refresh leaves the stale entry in place; a caller with a stale entry serves it.
        if (mode === "background") return null;
        const timedOut = outcome.reason === "coalesce-timeout";
        if (staleOk || !timedOut) {
          const error = new BrimError(
            "COALESCE_UNAVAILABLE",
            outcome.kind === "fallback" ? outcome.detail : `global tier: ${outcome.reason}`,
          );
          return { ok: false, error, collapsed: false, store: false };
        }
        // `waitMs` ran out with the objects alive: the route chose to fetch for itself then.
        detail = "coalesce-fallback";
        break;
      }
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
    const coalesce = req.policy.coalesce;
    if (coalesce && deps.coalescer)
      req.waitUntil(
        invalidateCoalescer(deps.coalescer, req.key.url, deps.now(), (deps.dataCenter ?? coloOf)(req.request), coalesce.locationHint),
      );
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

function logFallback(
  req: CacheRequest,
  deps: CacheDeps,
  tier: string,
  outcome: Extract<CoalesceOutcome, { kind: "fallback" | "unavailable" }>,
): void {
  deps.log({
    event: "coalesce-fallback",
    tenant: req.tenant.id,
    route: req.route.path,
    tier,
    reason: outcome.kind === "fallback" ? outcome.reason : `global:${outcome.reason}`,
    ...(outcome.kind === "fallback" ? { detail: outcome.detail } : {}),
  });
}

/** Cloudflare's data center for this request; "" locally, where there is only one (tests inject one). */
export function coloOf(request: Request): string {
  const cf = (request as Request & { cf?: { colo?: unknown } }).cf;
  return typeof cf?.colo === "string" ? cf.colo : "";
}
