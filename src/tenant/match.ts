import { PatternRouter } from "hono/router/pattern-router";
import type { BrimConfig, Route, Tenant } from "./types";

/** Finds the tenant for a Host and the route for a path; built once per loaded config. */
export interface TenantResolver {
  /** `host` as sent (port included); compared case-insensitively. */
  tenantFor(host: string): Tenant | null;
  /** First route, in config order, whose pattern matches `path`. */
  routeFor(tenant: Tenant, path: string): Route | null;
}

/**
 * Compiles every tenant's routes into a Hono router once. Hono's routers return every
 * matching handler in registration order, so the first result is the first matching route.
 */
export function createTenantResolver(config: BrimConfig): TenantResolver {
  const byHost = new Map<string, Tenant>();
  const routers = new Map<Tenant, PatternRouter<Route>>();
  for (const tenant of config.tenants) {
    for (const host of tenant.hosts) byHost.set(host, tenant);
    const router = new PatternRouter<Route>();
    for (const route of tenant.routes) router.add("ALL", route.path, route);
    routers.set(tenant, router);
  }
  return {
    tenantFor(host) {
      return byHost.get(host.toLowerCase()) ?? null;
    },
    routeFor(tenant, path) {
      const router = routers.get(tenant);
      if (!router) return null;
      const [matches] = router.match("GET", path);
      return matches[0]?.[0] ?? null;
    },
  };
}
