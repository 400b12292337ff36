import type { Hono } from "hono";
import { createBrim } from "./app";
import { KvDirectory } from "./control/directory";
import type { AppEnv } from "./env";

/**
 * Worker entry. Tenant config lives in the versioned config store (src/control/,
 * docs/control-plane.md): the app is built once per isolate around the store's edge copy in
 * KV, and each host's tenant is read the first time this isolate serves it. A push never
 * rebuilds the app or touches tenants it did not change.
 */
let app: Hono<AppEnv> | null = null;

function appFor(env: Env): Hono<AppEnv> {
  const log = (event: Record<string, unknown>) => console.log(JSON.stringify(event));
  app ??= createBrim({
    directory: new KvDirectory({ kv: env.CONFIG_KV, now: Date.now, log }),
    configStore: env.CONFIG_STORE,
    coalescer: env.COALESCER,
    revocations: env.REVOCATIONS,
    purgeLog: env.PURGE_LOG,
    statsLog: env.STATS_LOG,
    analytics: env.STATS_AE ?? null,
    log,
  });
  return app;
}

export default {
  fetch(request, env, ctx) {
    return appFor(env).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;

export { createBrim } from "./app";
export { ConfigStore } from "./control/object";
export { Coalescer } from "./coalesce/object";
export { RevocationList } from "./auth/revocation/object";
export { PurgeLog } from "./purge/object";
export { StatsLog } from "./stats/object";
