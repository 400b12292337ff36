import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import type { RequestSample } from "./counters";
import type { StatsRecorder } from "./recorder";

/** Options of `observeRequests`. */
export interface ObserveRequestsOptions {
  /** Where counts go; null: not counted (Server-Timing and log lines still work). */
  readonly recorder: StatsRecorder | null;
  /** Epoch ms (the injected clock): decides when to flush. */
  readonly now: () => number;
  readonly log: (event: Record<string, unknown>) => void;
}

const BRIM_MEMBER = /(?:^|,\s*)(Brim;[^,]*)$/;
const NEGATIVE_TTL = /; ttl=-/;

/**
 * Runs around every tenant request once tenant and route are known. Counts it (hit or not,
 * stale, collapsed, time to the response headers of requests that went to the origin
 * themselves) by reading Brim's own `Cache-Status` member (RFC 9211), so the cache needs no
 * hooks; the cost is one regex and a map update, no I/O (flushes run under `waitUntil`).
 * Tenants with `observability` also get `Server-Timing` (W3C Server Timing) and one JSON log
 * line per request. Durations use the runtime clock, which Workers advance across I/O only.
 */
export function observeRequests({ recorder, now, log }: ObserveRequestsOptions): MiddlewareHandler<AppEnv> {
  return async function observeRequests(c, next) {
    const started = Date.now();
    await next();
    const elapsedMs = Date.now() - started;
    const { tenant, route } = c.var;
    const cacheStatus = c.res.headers.get("cache-status");
    const sample = classify(cacheStatus, elapsedMs);
    recorder?.record(tenant.id, route.path, sample, now(), (p) => c.executionCtx.waitUntil(p));
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
    if (observe.requestLog) {
      const member = cacheStatus ? (BRIM_MEMBER.exec(cacheStatus)?.[1] ?? null) : null;
      log({ event: "request", tenant: tenant.id, route: route.path, method: c.req.method, status: c.res.status, cacheStatus: member, originMs: sample.originMs, ms: elapsedMs });
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

/** Pure: what a response's Cache-Status says about how it was served. */
export function classify(cacheStatus: string | null, elapsedMs: number): RequestSample {
  const member = cacheStatus ? (BRIM_MEMBER.exec(cacheStatus)?.[1] ?? "") : "";
  const hit = member.startsWith("Brim; hit");
  const collapsed = member.includes("; collapsed");
  const servedStale = (hit && NEGATIVE_TTL.test(member)) || member.includes("detail=stale-if-error");
  const forwarded = member.includes("; fwd=") && !collapsed;
  return { hit, stale: servedStale, collapsed, originMs: forwarded ? elapsedMs : null };
}
