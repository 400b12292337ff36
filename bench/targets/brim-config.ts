/**
 * The bench tenants file for Brim: one tenant on the target's own host, fronting the bench
 * origin. Routes only fill gaps (the origin always sends Cache-Control), so Brim honours the
 * same headers nginx, Varnish and hono/cache see.
 */
import { parseConfigText } from "../../src/tenant/load";

/** Longer than the slowest origin in any scenario. */
const ROUTE_TIMEOUT_MS = 60_000;

export function benchTenants(host: string, originUrl: string): string {
  const config = {
    tenants: [
      {
        id: "bench",
        hosts: [host],
        origin: originUrl,
        routes: [
          // Matches the origin's `swr` profile: max-age=1, stale-while-revalidate=30.
          { path: "/b/swr/*", timeoutMs: ROUTE_TIMEOUT_MS, cache: { ttl: 1, staleWhileRevalidate: 30 } },
          { path: "/b/*", timeoutMs: ROUTE_TIMEOUT_MS, cache: { ttl: 60 } },
        ],
      },
    ],
  };
  const json = JSON.stringify(config);
  parseConfigText(json); // Throws ConfigError, naming the field, if the schema has moved on.
  return json;
}
