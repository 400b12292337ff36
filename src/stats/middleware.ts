import type { MiddlewareHandler } from "hono";
import type { AppEnv, RequestOutcome } from "../env";
import { formatCacheStatus } from "../http/cache-status";
import { loggedPath } from "../http/log-path";
import { metered, newCosts } from "../meter";
import { countingResponse, knownBytes } from "./bytes";
import type { CacheSample, RequestSample } from "./counters";
import { cacheOutcomeOf, COALESCE_FALLBACK } from "./outcome";
import type { StatsRecorder } from "./recorder";
import { isFailure, logWithBytes, requestIdOf, sampled } from "./request-log";

/** Options of `observeRequests`. */
export interface ObserveRequestsOptions {
  /** Where counts go; null: not counted (Server-Timing and log lines still work). */
  readonly recorder: StatsRecorder | null;
  /** Epoch ms (the injected clock): decides when to flush. */
  readonly now: () => number;
  readonly log: (event: Record<string, unknown>) => void;
  /** Request log sampling draws, in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

/**
 * Runs around every tenant request once tenant and route are known. Counts it (hit or not,
 * stale, collapsed, time to the origin's response headers for requests that fetched
 * themselves, the auth failure reason) from the request's typed outcome (src/env.ts), which
 * the pipeline and auth filled in; the cost is a map update, no I/O (flushes run under `waitUntil`).
 * The request runs `metered` (src/meter.ts): its platform costs, and those of the background
 * work it starts, are added to the counters when the isolate closes its batch.
 * Tenants with `observability` also get `Server-Timing` (W3C Server Timing) and JSON log lines
 * (./request-log.ts: sampled, errors always). Durations use the runtime clock, which Workers advance across I/O only.
 */
export function observeRequests({ recorder, now, log, random = Math.random }: ObserveRequestsOptions): MiddlewareHandler<AppEnv> {
  return async function observeRequests(c, next) {
    const started = Date.now();
    const costs = newCosts();
    await metered(costs, next);
    const elapsedMs = Date.now() - started;
    const { tenant, route, outcome } = c.var;
    const sample = sampleOf(outcome, c.res.status, knownBytes(c.req.method, c.res));
    // No Content-Length (streamed, or compressed by Brim): count the body as it is sent.
    if (recorder && sample.bytes === null)
      c.res = countingResponse(c.res, (bytes) => recorder.bytesServed(tenant.id, route.path, bytes, now()));
    // Inside the request's context: a flush it triggers counts for it.
    metered(costs, () => recorder?.record(tenant.id, route.path, sample, costs, now(), (p) => c.executionCtx.waitUntil(p)));
    if (outcome.authFailure !== null) recorder?.authRejected(tenant.id, route.path, outcome.authFailure, now());
    const observe = tenant.observability;
    if (!observe) return;
    const authMs = c.var.authMs ?? 0;
    const originMs = sample.originMs ?? 0;
    if (observe.serverTiming) {
      const cacheMs = Math.max(0, elapsedMs - authMs - originMs);
      try {
        c.res.headers.append("server-timing", `auth;dur=${authMs}, cache;dur=${cacheMs}, origin;dur=${originMs}, total;dur=${elapsedMs}`);
      } catch {
        // An immutable response (none of Brim's own): answer without the header.
      }
    }
    const policy = observe.requestLog;
    if (policy) {
      // Only a logged request pays for its line (path redaction, id, byte count).
      const failure = isFailure(c.res.status, outcome.cache);
      if (!sampled(failure, policy.sampleRate, random)) return;
      const line = {
        event: "request" as const,
        requestId: requestIdOf(c.req.raw.headers),
        host: c.req.header("host") ?? "",
        tenant: tenant.id,
        route: route.path,
        method: c.req.method,
        path: loggedPath(c.req.url),
        status: c.res.status,
        cacheStatus: outcome.cache ? formatCacheStatus(outcome.cache) : null,
        originMs: sample.originMs,
        ms: elapsedMs,
        sampleRate: failure ? 1 : policy.sampleRate,
        ...(failure ? { error: true as const } : {}),
      };
      const sent = logWithBytes(c.res, line, c.req.method === "HEAD", log, (p) => c.executionCtx.waitUntil(p));
      // Only a counted body is a new response (Hono's setter copies it again).
      if (sent !== c.res) c.res = sent;
    }
  };
}

/** Wraps a middleware to record how long it took before handing on (`authMs`). */
export function timed(inner: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  return async function timed(c, next) {
    const started = Date.now();
    let handedOn = false;
    const result = await inner(c, async () => {
      handedOn = true;
      c.set("authMs", Date.now() - started);
      await next();
    });
    if (!handedOn) c.set("authMs", Date.now() - started);
    return result;
  };
}

/** Pure: what one request adds to the counters, from its outcome and the response sent. */
export function sampleOf(outcome: RequestOutcome, status: number, bytes: number | null): RequestSample {
  return {
    ...classify(outcome),
    status,
    outcome: cacheOutcomeOf(outcome.cache),
    bytes,
    coalesceFallback: outcome.cache?.detail === COALESCE_FALLBACK,
  };
}

/** Pure: how the request was served, from its outcome. */
export function classify(outcome: RequestOutcome): CacheSample {
  const status = outcome.cache;
  const hit = status?.hit === true;
  const collapsed = status?.collapsed === true;
  const servedStale = (hit && status.ttl !== undefined && status.ttl < 0) || status?.detail === "stale-if-error";
  const forwarded = status?.fwd !== undefined && !collapsed;
  return { hit, stale: servedStale, collapsed, originMs: forwarded ? (outcome.originMs ?? 0) : null };
}
