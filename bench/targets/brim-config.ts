/**
 * The bench tenants file for Brim: one tenant on the target's own host, fronting the bench
 * origin, and an auth tenant on `localhost:<port>` (same origin) for the auth scenario. Routes
 * only fill gaps (the origin always sends Cache-Control), so Brim honours the same headers
 * nginx, Varnish and hono/cache see.
 */
import { parseConfigText } from "../../src/tenant/load";
import { BENCH_AUDIENCE, BENCH_ISSUER } from "../lib/auth-keys";

/** Longer than the slowest origin in any scenario. */
const ROUTE_TIMEOUT_MS = 60_000;

/** The Worker secret holding the bench tenant's admin token (`/__brim/stats`, for the cost metrics). */
export const BENCH_ADMIN_TOKEN_ENV = "BENCH_ADMIN_TOKEN";

/** The auth tenant's Host: another name for the same listener. */
export function brimAuthHost(port: number): string {
  return `localhost:${port}`;
}

/** Keys whose first segment is this need a valid token on the auth tenant (`/b/<profile>/<ms>/<bytes>/auth/...`). */
export const AUTH_KEY_SEGMENT = "auth";

export function benchTenants(host: string, originUrl: string, authPort: number, publicJwk: object): string {
  const config = {
    tenants: [
      {
        id: "bench",
        hosts: [host],
        origin: originUrl,
        admin: { tokenEnv: BENCH_ADMIN_TOKEN_ENV },
        routes: [
          // Matches the origin's `swr` profile: max-age=1, stale-while-revalidate=30.
          { path: "/b/swr/*", timeoutMs: ROUTE_TIMEOUT_MS, cache: { ttl: 1, staleWhileRevalidate: 30 } },
          { path: "/b/*", timeoutMs: ROUTE_TIMEOUT_MS, cache: { ttl: 60 } },
        ],
      },
      {
        id: "bench-auth",
        hosts: [brimAuthHost(authPort)],
        origin: originUrl,
        // Static inline key: no JWKS fetch, no revocation list, so the scenario measures verification alone.
        auth: { issuer: BENCH_ISSUER, audience: BENCH_AUDIENCE, keys: [publicJwk], algorithms: ["ES256"] },
        routes: [
          { path: `/b/:profile/:latency/:bytes/${AUTH_KEY_SEGMENT}/*`, auth: "required", timeoutMs: ROUTE_TIMEOUT_MS, cache: { ttl: 60 } },
          { path: "/b/*", timeoutMs: ROUTE_TIMEOUT_MS, cache: { ttl: 60 } },
        ],
      },
    ],
  };
  const json = JSON.stringify(config);
  parseConfigText(json); // Throws ConfigError, naming the field, if the schema has moved on.
  return json;
}
