import type { MiddlewareHandler } from "hono";
import { AUTH_UNAVAILABLE_RETRY_AFTER_SECONDS } from "../constants";
import type { AppEnv } from "../env";
import { authenticateRequest } from "./authenticate";
import { failureResponse } from "./failure";
import { cacheIdentity, upstreamRequest } from "./forward";
import type { AuthRuntime } from "./runtime";

/** Options of `authenticate`. */
export interface AuthenticateOptions {
  /** Per-isolate auth state (`createAuthRuntime`). */
  readonly runtime: AuthRuntime;
  /** Epoch ms; tests pass a controllable clock. */
  readonly now: () => number;
  readonly log: (event: Record<string, unknown>) => void;
}

/**
 * Runs after the tenant and route are known and before the cache, so cached content on an
 * auth route is only ever served to requests that pass. On `required` / `optional` routes it
 * verifies the token (401 / 403 / 503 with `Cache-Control: no-store`; the origin is never
 * called), then hands on a request with the verified claims forwarded and, when configured,
 * the token removed, and sets `auth` (claims and cache identity). On every route of a tenant
 * with `auth`, client-sent copies of the forwarded-claim headers are removed.
 */
export function authenticate({ runtime, now, log }: AuthenticateOptions): MiddlewareHandler<AppEnv> {
  return async function authenticate(c, next) {
    const { tenant, route } = c.var;
    const rt = runtime.forTenant(tenant);
    if (!rt) return next();
    if (!route.auth) {
      c.req.raw = upstreamRequest(c.req.raw, rt.auth, route, null);
      return next();
    }
    const ctx = {
      now: now(),
      waitUntil: (promise: Promise<unknown>) => c.executionCtx.waitUntil(promise),
      log,
      env: c.env as unknown as Readonly<Record<string, unknown>>,
    };
    const outcome = await authenticateRequest(c.req.raw, route.auth, rt, ctx);
    if (outcome.kind === "failed") {
      // The precise reason is logged; the client gets a generic answer. Never the token.
      log({
        event: "auth-failed",
        tenant: tenant.id,
        route: route.path,
        reason: outcome.reason,
        ...(outcome.detail ? { detail: outcome.detail } : {}),
      });
      c.var.outcome.authFailure = outcome.reason;
      const retryAfterSeconds =
        outcome.reason === "revocation-stale" && rt.auth.revocation
          ? rt.auth.revocation.refreshSeconds
          : rt.auth.keys.kind === "jwks"
            ? rt.auth.keys.cooldownSeconds
            : AUTH_UNAVAILABLE_RETRY_AFTER_SECONDS;
      return failureResponse(outcome.reason, { tenantId: tenant.id, scopes: route.auth.scopes, retryAfterSeconds });
    }
    c.req.raw = upstreamRequest(c.req.raw, rt.auth, route, outcome);
    c.set("auth", { claims: outcome.kind === "verified" ? outcome.claims : null, cache: cacheIdentity(rt.auth, route, outcome) });
    return next();
  };
}
