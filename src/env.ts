import type { Route, Tenant } from "./tenant/types";

/** Hono's view of the Worker: bindings from wrangler.toml (`Env`, generated) and per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    tenant: Tenant;
    route: Route;
  };
}
