/**
 * `GET /__brim/health` (and HEAD): answered on every Host, before tenant routing, never proxied
 * or cached (`no-store`). Load balancers and uptime checks probe whatever host they front, so
 * the answer cannot depend on the Host, and an unknown Host gets the same answer as a tenant's.
 *
 * - Without credentials (or while the Worker has no BRIM_PLATFORM_TOKEN): `200 {"ok":true}`,
 *   computed from nothing — no I/O, no tenant id, no version — so it reveals neither which
 *   tenants exist nor which host is one. It says the isolate runs and routes requests.
 * - With `Authorization: Bearer <BRIM_PLATFORM_TOKEN>`: what this isolate knows (`HealthReport`):
 *   the config version it serves, the store's active version and how fresh its last version read
 *   is, the ConfigStore's own version and missing secrets (one Durable Object call, bounded by
 *   HEALTH_STORE_TIMEOUT_MS), and per loaded tenant its JWKS and revocation list state.
 * - Any other Authorization (a wrong token, another scheme): `401` with the platform challenge,
 *   never the anonymous answer, so a misconfigured monitor is told rather than fooled.
 *
 * Nothing here runs for other requests: the status is collected only when asked with the token.
 */
import { Hono } from "hono";
import type { AuthRuntime, TenantAuthStatus } from "../auth/runtime";
import type { ConfigSnapshot, ConfigStore, MissingSecret } from "../control/object";
import { meter } from "../meter";
import type { TenantDirectory } from "../tenant/directory";
import { PLATFORM_CHALLENGE, platformToken } from "./platform";
import { jsonAnswer, jsonFailure } from "./respond";
import { adminTokenMatches } from "./token";

/** Options of `healthApp`. */
export interface HealthOptions {
  /** This isolate's tenant directory (its `status()`, when it reads a store). */
  readonly directory: TenantDirectory;
  /** Per-tenant auth state (JWKS, revocation lists) of the tenants this isolate holds. */
  readonly runtime: AuthRuntime;
  /** The ConfigStore namespace; null: the report has no `store` section. */
  readonly store: DurableObjectNamespace<ConfigStore> | null;
  /** The ConfigStore object's name (src/control/layout.ts). */
  readonly space: string;
  /** Epoch ms (the injected clock). */
  readonly now: () => number;
  readonly log: (event: Record<string, unknown>) => void;
}

/** What the platform token sees. Times are epoch ms, ages ms, by the injected clock; null: never. */
export interface HealthReport {
  readonly ok: true;
  readonly now: number;
  /** This isolate's view of the config store (null for a config loaded in memory: tests, tools). */
  readonly config: {
    readonly version: number | null;
    readonly activeVersion: number | null;
    readonly checkedAt: number | null;
    /** Age of the last successful version read: bounded by CONFIG_MAX_STALE_MS while the store answers. */
    readonly freshnessMs: number | null;
    readonly lastFailure: { readonly at: number; readonly detail: string } | null;
    readonly hosts: number;
    readonly unknownHosts: number;
  } | null;
  /** The ConfigStore object's own answer, or why there is none. */
  readonly store:
    { readonly version: number; readonly publishedVersion: number; readonly updatedAt: string | null } | { readonly error: string } | null;
  /** Secrets tenants name that the Worker lacks (as `GET /__brim/platform/config`); null when the store did not answer. */
  readonly missingSecrets: readonly MissingSecret[] | null;
  /** Tenants with `auth` this isolate has served and still holds, by id. */
  readonly tenants: readonly TenantAuthStatus[];
}

type HealthEnv = { Bindings: Env };

/** The health sub-app, mounted at `/__brim/health` by src/app.ts before the tenant admin API. */
export function healthApp(options: HealthOptions): Hono<HealthEnv> {
  const health = new Hono<HealthEnv>();
  // Hono answers HEAD with this GET handler's headers and no body.
  health.get("/", async function health(c) {
    const authorization = c.req.header("authorization");
    const expected = platformToken(c.env);
    if (authorization === undefined || typeof expected !== "string" || expected === "") return jsonAnswer(200, ANONYMOUS);
    if (!(await adminTokenMatches(authorization, expected))) {
      options.log({ event: "platform-unauthorized", path: "/__brim/health" });
      return jsonFailure("PLATFORM_UNAUTHORIZED", {}, { "www-authenticate": PLATFORM_CHALLENGE });
    }
    return jsonAnswer(200, await report(options));
  });
  health.all("/", () => jsonFailure("ADMIN_METHOD_NOT_ALLOWED", {}, { allow: "GET, HEAD" }));
  health.all("*", () => jsonFailure("PLATFORM_NOT_FOUND"));
  return health;
}

/** The anonymous answer: the same bytes for every Host and every isolate. */
const ANONYMOUS = { ok: true } as const;

/** A ConfigStore that does not answer within this is reported as such, not waited on. */
const HEALTH_STORE_TIMEOUT_MS = 5_000;

async function report({ directory, runtime, store, space, now }: HealthOptions): Promise<HealthReport> {
  const stored = store ? await storeStatus(store, space) : null;
  const at = now();
  const dir = directory.status?.() ?? null;
  return {
    ok: true,
    now: at,
    config: dir && { ...dir, freshnessMs: dir.checkedAt === null ? null : Math.max(0, at - dir.checkedAt) },
    store:
      stored &&
      ("error" in stored ? stored : { version: stored.version, publishedVersion: stored.publishedVersion, updatedAt: stored.updatedAt }),
    missingSecrets: stored && !("error" in stored) ? stored.missingSecrets : null,
    tenants: runtime.status(at),
  };
}

type StoreStatus = Omit<ConfigSnapshot, "document">;

async function storeStatus(store: DurableObjectNamespace<ConfigStore>, space: string): Promise<StoreStatus | { error: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    meter("config");
    const status = store.get(store.idFromName(space)).status() as Promise<StoreStatus>;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${HEALTH_STORE_TIMEOUT_MS} ms`)), HEALTH_STORE_TIMEOUT_MS);
    });
    return await Promise.race([status, deadline]);
  } catch (error) {
    return { error: String(error) };
  } finally {
    clearTimeout(timer);
  }
}
