import type { RequestAuth } from "./auth/forward";
import type { CacheStatus } from "./http/cache-status";
import type { Route, Tenant } from "./tenant/types";

/**
 * What happened to one request, as data (STYLE.md §12): each part is set once by the layer that
 * knows it, and stats, the request log and `Server-Timing` read it; nothing parses a header
 * or a log event to learn it.
 */
export interface RequestOutcome {
  /** Brim's Cache-Status member (RFC 9211) as sent; null for answers before the cache (4xx). */
  cache: CacheStatus | null;
  /** Milliseconds to the origin's response headers, for a fetch this request made itself. */
  originMs: number | null;
  /** Why auth refused the request (src/auth/failure.ts reasons); null when it did not. */
  authFailure: string | null;
}

/** A fresh outcome: nothing known yet. */
export function newOutcome(): RequestOutcome {
  return { cache: null, originMs: null, authFailure: null };
}

/** Hono's view of the Worker: bindings from wrangler.toml (`Env`, generated) and per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    tenant: Tenant;
    route: Route;
    /**
     * The request's one canonical path (src/http/path.ts), set with the route: routing, auth
     * (which follows the route), the cache key, purge stamps and the origin URL all use it.
     */
    path: string;
    /** Set by src/auth/ on routes with `auth`: verified claims and the cache identity. */
    auth?: RequestAuth;
    /** Milliseconds the auth middleware took (src/stats/ `timed`), for Server-Timing. */
    authMs?: number;
    /** What happened to the request; created first thing by src/app.ts. */
    outcome: RequestOutcome;
  };
}
