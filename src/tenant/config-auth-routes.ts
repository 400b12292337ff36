/**
 * The rules that link a tenant's routes to its `auth` block, checked once the whole tenant is
 * parsed (a route cannot see its tenant's fields from its own schema).
 */
import type { z } from "zod";
import { isRecord, show } from "./config-values";

function custom(ctx: z.RefinementCtx, message: string, path: PropertyKey[] = []): void {
  ctx.addIssue({ code: "custom", message, path });
}

/**
 * Rules linking a tenant's routes to its auth block: a route's `auth`, `scopes` and
 * `cache.key.claims` need the tenant's `auth`; scopes need `auth: "required"`; claims in
 * the key need a verified token (`required` or `optional`), and must include every claim
 * forwarded to the origin: the origin may vary its answer on any header it receives, so a
 * forwarded claim left out of the key would let one user's response be served to another
 * (RFC 9111 §4.1: a stored response is reused only for requests it was selected for).
 */
export function checkRouteAuth(tenant: unknown, ctx: z.RefinementCtx): void {
  if (!isRecord(tenant) || !Array.isArray(tenant.routes)) return;
  const hasAuth = isRecord(tenant.auth);
  const forward =
    isRecord(tenant.auth) && isRecord(tenant.auth.forward) && isRecord(tenant.auth.forward.claims) ? tenant.auth.forward.claims : {};
  tenant.routes.forEach((route: unknown, r: number) => {
    if (!isRecord(route)) return;
    const mode = route.auth ?? "none";
    const at = (...rest: PropertyKey[]) => ["routes", r, ...rest];
    if (mode !== "none" && !hasAuth && typeof mode === "string")
      custom(ctx, `auth ${show(mode)} needs the tenant's "auth" block`, at("auth"));
    if (route.scopes !== undefined && mode !== "required") custom(ctx, 'scopes need "auth": "required"', at("scopes"));
    const cache = route.cache;
    const claims = isRecord(cache) && isRecord(cache.key) ? cache.key.claims : undefined;
    if (Array.isArray(claims) && claims.length > 0 && mode === "none") {
      custom(ctx, 'claims in the cache key need a verified token: set "auth" to "required" or "optional"', at("cache", "key", "claims"));
    }
    if (Array.isArray(claims) && claims.length > 0) {
      const unkeyed = Object.keys(forward).filter((claim) => !claims.includes(claim));
      if (unkeyed.length > 0) {
        const list = unkeyed.map((claim) => `${show(claim)} (as ${show(forward[claim])})`).join(", ");
        custom(
          ctx,
          `every claim forwarded to the origin must be in the cache key, or one user's response is served to another: ${list} ${unkeyed.length === 1 ? "is forwarded but not keyed; add it" : "are forwarded but not keyed; add them"} to "claims" or stop forwarding ${unkeyed.length === 1 ? "it" : "them"}`,
          at("cache", "key", "claims"),
        );
      }
    }
  });
}
