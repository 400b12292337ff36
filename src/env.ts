import type { RequestAuth } from "./auth/forward";
import type { Route, Tenant } from "./tenant/types";

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
  };
}
