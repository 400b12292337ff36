import type { RequestAuth } from "./auth/forward";
import type { Route, Tenant } from "./tenant/types";

/** Hono's view of the Worker: bindings from wrangler.toml (`Env`, generated) and per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    tenant: Tenant;
    route: Route;
    /** Set by src/auth/ on routes with `auth`: verified claims and the cache identity. */
    auth?: RequestAuth;
    /** Milliseconds the auth middleware took (src/stats/ `timed`), for Server-Timing. */
    authMs?: number;
  };
}
