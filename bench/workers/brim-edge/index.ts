/**
 * A second data center for the bench's two-edge scenario (bench/targets/brim-miniflare.ts): the
 * Worker of src/index.ts with its data center named (`BrimOptions.colo`, from `EDGE_COLO`) and its
 * own Cache API cache (`EDGE_CACHE`), as another data center would have. Its Durable Objects are
 * bound from the first edge's Worker, so both share them, as every data center does in production.
 * Everything else is src/index.ts's wiring; keep the two alike.
 */
import type { Hono } from "hono";
import { createBrim } from "../../../src/app";
import { KvDirectory } from "../../../src/control/directory";
import type { AppEnv } from "../../../src/env";

interface EdgeEnv extends Env {
  /** This edge's data center name: names its data center tier of coalescing. */
  readonly EDGE_COLO: string;
  /** This edge's Cache API cache (`caches.open`), separate from the other edge's. */
  readonly EDGE_CACHE: string;
}

let app: Hono<AppEnv> | null = null;

function appFor(env: EdgeEnv): Hono<AppEnv> {
  const log = (event: Record<string, unknown>) => console.log(JSON.stringify(event));
  app ??= createBrim({
    directory: new KvDirectory({ kv: env.CONFIG_KV, now: Date.now, log }),
    configStore: env.CONFIG_STORE,
    coalescer: env.COALESCER,
    revocations: env.REVOCATIONS,
    purgeLog: env.PURGE_LOG,
    statsLog: env.STATS_LOG,
    analytics: env.STATS_AE ?? null,
    cache: () => caches.open(env.EDGE_CACHE),
    colo: env.EDGE_COLO,
    log,
  });
  return app;
}

export default {
  fetch(request, env, ctx) {
    return appFor(env).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<EdgeEnv>;

// The bundle must export the classes its config declares; the objects themselves live in the first edge.
export { ConfigStore, Coalescer, RevocationList, PurgeLog, StatsLog } from "../../../src/index";
