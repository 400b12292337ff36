import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { newOutcome, type AppEnv } from "./env";
import { adminApp } from "./admin";
import { authenticate } from "./auth/middleware";
import type { RevocationList } from "./auth/revocation/object";
import { createAuthRuntime } from "./auth/runtime";
import { edgeCache } from "./pipeline";
import { RevalidationLocks } from "./cache/revalidation-locks";
import { CacheStore } from "./cache/store";
import type { MemoryTierOptions } from "./cache/memory";
import { errorResponse } from "./errors";
import type { Coalescer } from "./coalesce/object";
import type { OriginFetcher } from "./http/fetch";
import { PurgeRegistry } from "./purge/client";
import type { PurgeLog } from "./purge/object";
import { CONFIG_SPACE } from "./control/layout";
import type { ConfigStore } from "./control/object";
import { platformApp } from "./admin/platform";
import { healthApp } from "./admin/health";
import { staticDirectory, type TenantDirectory } from "./tenant/directory";
import { createTenantResolver } from "./tenant/match";
import { resolveTenant, validHost } from "./tenant/middleware";
import type { BrimConfig } from "./tenant/types";
import { observeRequests, timed } from "./stats/middleware";
import type { StatsLog } from "./stats/object";
import { StatsRecorder } from "./stats/recorder";
import type { AnalyticsWriter } from "./stats/analytics";
import type { RecompressDeps } from "./pipeline/context";
import { RECOMPRESS_MAX_BYTES } from "./constants";

export interface BrimOptions {
  /**
   * Where tenants come from: a config already loaded by `loadConfig` / `parseConfigText`
   * (tests, tools), or a `TenantDirectory` (the Worker: the config store's edge copy,
   * src/control/directory.ts). Exactly one.
   */
  readonly config?: BrimConfig;
  readonly directory?: TenantDirectory;
  /** The ConfigStore namespace behind the platform API (`/__brim/platform/*`); without it that API is 404. */
  readonly configStore?: DurableObjectNamespace<ConfigStore> | null;
  /** Which ConfigStore object (and KV prefix) the platform API writes. Default CONFIG_SPACE ("config"). */
  readonly configSpace?: string;
  /** How origins are reached. Default: the runtime's `fetch`. */
  readonly fetcher?: OriginFetcher;
  /** Epoch ms. Default: `Date.now`. Tests pass a controllable clock. */
  readonly now?: () => number;
  /** In [0, 1), for TTL jitter. Default: `Math.random`. */
  readonly random?: () => number;
  /** The Cache API cache to store in. Default: `caches.default`. */
  readonly cache?: () => Promise<Cache>;
  /** Bounds of the in-isolate memory tier (src/cache/memory.ts). Default: MEMORY_TIER_* in src/constants.ts. */
  readonly memoryTier?: Partial<MemoryTierOptions>;
  /** Durable Object namespace of `Coalescer`; without it every miss fetches for itself. */
  readonly coalescer?: DurableObjectNamespace<Coalescer> | null;
  /** Durable Object namespace of `RevocationList`; without it, tenants with a revocation list get their `onStale` policy. */
  readonly revocations?: DurableObjectNamespace<RevocationList> | null;
  /** Durable Object namespace of `PurgeLog`; without it, `POST /__brim/purge` is 404 and hits are not checked. */
  readonly purgeLog?: DurableObjectNamespace<PurgeLog> | null;
  /** Durable Object namespace of `StatsLog`; without it nothing is counted and `/__brim/stats` is 404. */
  readonly statsLog?: DurableObjectNamespace<StatsLog> | null;
  /**
   * This isolate's data center, which names the data center tier of coalescing. Default: each
   * request's `cf.colo` ("" locally). Tests give two Brims two names to stand for two data centers.
   */
  readonly colo?: string;
  /** Workers Analytics Engine dataset: one data point per request (src/stats/analytics.ts); needs `statsLog`. */
  readonly analytics?: AnalyticsWriter | null;
  /** In [0, 1), for request log sampling (`observability.requestLog.sampleRate`). Default: `Math.random`. */
  readonly logSampling?: () => number;
  /** Structured log sink. Default: one JSON line on `console.log`. */
  readonly log?: (event: Record<string, unknown>) => void;
  /**
   * The background high-quality pass over compressed variants (docs/compression.md): `maxBytes`
   * (default RECOMPRESS_MAX_BYTES; 0 turns it off) bounds the identity bodies it takes;
   * `beforeReplace` (tests only) is awaited just before a stored variant is replaced.
   */
  readonly recompress?: { readonly maxBytes?: number; readonly beforeReplace?: () => Promise<void> };
}

/**
 * Builds the Brim app for one config. The request path, in order:
 * admin endpoints (`/__brim/*`) | tenant and route by Host and path → auth → edge cache → origin.
 */
export function createBrim(options: BrimOptions): Hono<AppEnv> {
  if ((options.config === undefined) === (options.directory === undefined))
    throw new Error("createBrim: give exactly one of config and directory");
  const directory = options.directory ?? staticDirectory(options.config!);
  const resolver = createTenantResolver();
  const openCache = options.cache ?? (async () => caches.default);
  let store: Promise<CacheStore> | null = null;
  const sink = options.log ?? ((event) => console.log(JSON.stringify(event)));
  const now = options.now ?? Date.now;
  const stats = options.statsLog
    ? new StatsRecorder({ namespace: options.statsLog, analytics: options.analytics ?? null, log: sink })
    : null;
  const log = sink;
  const deps = {
    store: () => (store ??= openCache().then((cache) => new CacheStore(cache, { now, memory: options.memoryTier ?? {} }))),
    fetcher: options.fetcher ?? ((request: Request, init?: RequestInit) => fetch(request, init)),
    now,
    random: options.random ?? Math.random,
    locks: new RevalidationLocks(),
    onFailure: stats ? (tenantId: string, route: string, kind: string) => stats.failed(tenantId, route, kind, now()) : null,
    onCompressionSaved: stats
      ? (tenantId: string, route: string, bytes: number) => stats.compressionSaved(tenantId, route, bytes, now())
      : null,
    // Purge marks and revocation lists reach isolates through the data center's cache (src/relay.ts).
    purges: options.purgeLog ? new PurgeRegistry({ namespace: options.purgeLog, cache: openCache, log: sink }) : null,
    coalescer: options.coalescer ?? null,
    ...(options.colo !== undefined ? { dataCenter: () => options.colo! } : {}),
    recompress: recompressDeps(options.recompress),
    log,
  };

  const auth = createAuthRuntime({ revocations: options.revocations ?? null, cache: openCache, log: sink });

  // strict: false — `/__brim/` and `/__brim` are both the stats page (Hono joins the mount
  // path and "/" as `/__brim`); tenant routes are matched by src/tenant/, not by this router.
  const app = new Hono<AppEnv>({ strict: false });
  // What happened to the request, filled in by each step below and read by src/stats/.
  app.use(async function outcome(c, next) {
    c.set("outcome", newOutcome());
    await next();
  });
  // RFC 9110 §9.3.6: CONNECT asks for a tunnel, which a reverse proxy does not open; the
  // runtime refuses TRACE and TRACK outright. Answered before anything else looks at them.
  app.use(async function unsupportedMethods(c, next) {
    if (UNSUPPORTED_METHODS.has(c.req.method)) return errorResponse("METHOD_NOT_SUPPORTED");
    await next();
  });
  app.use(validHost());
  // Before tenant routing: /__brim/* is Brim's own, never proxied or cached. The platform
  // API (any host, the platform token) first, then each tenant's admin endpoints (by Host).
  app.route(
    "/__brim/platform",
    platformApp({ store: options.configStore ?? null, space: options.configSpace ?? CONFIG_SPACE, directory, now, log }),
  );
  // Any host too (load balancers probe the hosts they front); never reveals tenants without the token.
  app.route(
    "/__brim/health",
    healthApp({ directory, runtime: auth, store: options.configStore ?? null, space: options.configSpace ?? CONFIG_SPACE, now, log }),
  );
  const admin = adminApp({
    directory,
    resolver,
    runtime: auth,
    now: deps.now,
    log,
    purges: deps.purges,
    coalescer: deps.coalescer,
    stats,
    tenantIds: tenantIdsOf(options),
  });
  app.route("/__brim", admin);
  app.use(resolveTenant(directory, resolver, { log }));
  app.use(observeRequests({ recorder: stats, now, log, random: options.logSampling ?? Math.random }));
  app.use(timed(authenticate({ runtime: auth, now: deps.now, log })));
  app.all("*", edgeCache({ deps, resolver }));
  // Anything thrown this far is Brim's own bug, never the origin's (origin failures are
  // results, answered where they happen): a 500 with `no-store`, logged with its stack.
  app.onError((error, c) => {
    // A middleware's ready answer (hono/bearer-auth's 401 on /__brim/*), not a failure.
    if (error instanceof HTTPException) return error.getResponse();
    log({
      event: "internal-error",
      tenant: c.var.tenant?.id,
      route: c.var.route?.path,
      detail: String(error),
      stack: error instanceof Error ? error.stack : undefined,
    });
    if (c.var.tenant && c.var.route) stats?.failed(c.var.tenant.id, c.var.route.path, "internal-error", now());
    return errorResponse("INTERNAL");
  });
  return app;
}

/** The active config's tenant ids, for the platform stats view: the static config's, or the config store's. */
function tenantIdsOf(options: BrimOptions): (() => Promise<readonly string[]>) | null {
  if (options.config) {
    const ids = options.config.tenants.map((tenant) => tenant.id);
    return async () => ids;
  }
  const store = options.configStore;
  if (!store) return null;
  const space = options.configSpace ?? CONFIG_SPACE;
  return async () => (await store.get(store.idFromName(space)).status()).tenants.map((tenant) => tenant.id);
}

/** Methods Brim never proxies (see `unsupportedMethods`). */
const UNSUPPORTED_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

function recompressDeps(options: BrimOptions["recompress"]): RecompressDeps | null {
  const maxBytes = options?.maxBytes ?? RECOMPRESS_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new Error("createBrim: recompress.maxBytes must be a whole number of bytes");
  return maxBytes === 0 ? null : { maxBytes, beforeReplace: options?.beforeReplace ?? null };
}
