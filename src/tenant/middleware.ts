import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { errorResponse } from "../errors";
import type { TenantResolver } from "./match";

/**
 * Picks the tenant by Host (case-insensitive, port as sent) and the first matching route.
 * An unknown host gets 421 and never another tenant's content; no route gets 404.
 */
export function resolveTenant(resolver: TenantResolver): MiddlewareHandler<AppEnv> {
  return async function resolveTenant(c, next) {
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    const tenant = resolver.tenantFor(host);
    if (!tenant) return errorResponse("UNKNOWN_HOST");
    const route = resolver.routeFor(tenant, new URL(c.req.url).pathname);
    if (!route) return errorResponse("NO_ROUTE");
    c.set("tenant", tenant);
    c.set("route", route);
    await next();
  };
}
