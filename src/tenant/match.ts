import { PatternRouter } from "hono/router/pattern-router";
import { canonicalPath, lenientPath, normalisingOriginReading, type PathProblem } from "../http/path";
import type { Route, Tenant } from "./types";

/** The route for a raw path and the one canonical path the request uses from then on. */
export type PathResolution =
  { readonly ok: true; readonly route: Route; readonly path: string } | { readonly ok: false; readonly reason: PathProblem | "no-route" };

/** Finds a tenant's route for a path (the tenant itself comes from a `TenantDirectory`). */
export interface TenantResolver {
  /** First route, in config order, whose pattern matches `path` (already canonical). */
  routeFor(tenant: Tenant, path: string): Route | null;
  /**
   * The route and canonical path for `rawPath` as the client sent it (src/http/path.ts). An
   * ambiguous path is taken only by a route with `ambiguousPaths: "forward"`, and only when the
   * most normalising reading of it (`%2F` decoded, `;` dropped, `//` merged, dots resolved)
   * picks that same route or none: so however the origin reads it, no other route's auth or
   * cache policy is walked past.
   */
  resolvePath(tenant: Tenant, rawPath: string): PathResolution;
}

/**
 * Compiles a tenant's routes into a Hono router the first time the tenant is seen, kept as long
 * as that tenant object lives (a new config version is a new object, so an isolate with 10,000
 * tenants compiles only those it serves). Hono's routers return every matching handler in
 * registration order, so the first result is the first matching route.
 */
export function createTenantResolver(): TenantResolver {
  const routers = new WeakMap<Tenant, PatternRouter<Route>>();
  const routeFor = (tenant: Tenant, path: string): Route | null => {
    let router = routers.get(tenant);
    if (!router) {
      router = new PatternRouter<Route>();
      for (const route of tenant.routes) router.add("ALL", route.path, route);
      routers.set(tenant, router);
    }
    const [matches] = router.match("GET", path);
    return matches[0]?.[0] ?? null;
  };
  return {
    routeFor,
    resolvePath(tenant, rawPath) {
      const canonical = canonicalPath(rawPath);
      if (canonical.ok) {
        const route = routeFor(tenant, canonical.path);
        return route ? { ok: true, route, path: canonical.path } : { ok: false, reason: "no-route" };
      }
      // Which route's opt-out applies is decided on the path as it would be forwarded. The
      // normalising reading must not pick another route, or a request could take a lenient
      // route to reach what the origin serves under a stricter one (`/files/..%2Fprivate/x`).
      // No route at all is allowed: `/:pkg` must take `/@scope%2Fname` (read as two segments).
      const lenient = lenientPath(rawPath);
      if (!lenient.ok) return { ok: false, reason: canonical.reason };
      const route = routeFor(tenant, lenient.path);
      if (route?.ambiguousPaths !== "forward") return { ok: false, reason: canonical.reason };
      const reading = routeFor(tenant, normalisingOriginReading(rawPath));
      if (reading !== null && reading !== route) return { ok: false, reason: canonical.reason };
      return { ok: true, route, path: lenient.path };
    },
  };
}
