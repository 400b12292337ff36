import { Hono, type Context } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import type { AuthRuntime } from "../auth/runtime";
import type { Coalescer } from "../coalesce/object";
import { ADMIN_MAX_BODY_BYTES } from "../constants";
import type { AppEnv } from "../env";
import { errorResponse } from "../errors";
import type { PurgeRegistry } from "../purge/client";
import type { StatsRecorder } from "../stats/recorder";
import { statsPage, statsResponse } from "../stats/endpoint";
import type { TenantDirectory } from "../tenant/directory";
import type { TenantResolver } from "../tenant/match";
import { tenantOf } from "../tenant/middleware";
import type { Tenant } from "../tenant/types";
import { handlePurge } from "./purge";
import { bodyTooLarge } from "./respond";
import { pushRevocations } from "./revocations";
import { adminTokenMatches } from "./token";

/** Options of `adminApp`. */
export interface AdminOptions {
  readonly directory: TenantDirectory;
  readonly resolver: TenantResolver;
  readonly runtime: AuthRuntime;
  /** Epoch ms. */
  readonly now: () => number;
  readonly log: (event: Record<string, unknown>) => void;
  /** Purge marks (src/purge/); null: no `/__brim/purge`. */
  readonly purges?: PurgeRegistry | null;
  /** Told to forget kept responses of purged URLs. */
  readonly coalescer?: DurableObjectNamespace<Coalescer> | null;
  /** Counts (src/stats/); null: no `/__brim/stats` and no stats page. */
  readonly stats?: StatsRecorder | null;
}

/** The admin sub-app's own variable: the tenant the Host names. */
type AdminEnv = { Bindings: AppEnv["Bindings"]; Variables: AppEnv["Variables"] & { adminTenant: Tenant } };

/**
 * Everything under `/__brim/`, mounted by src/app.ts before tenant routing: answered here,
 * never proxied or cached, whatever the tenant's routes say. The tenant is found by Host; its
 * `admin.tokenEnv` secret must be presented as a bearer token (hono/bearer-auth, compared in
 * constant time) before anything else is revealed; request bodies are bounded (hono/body-limit).
 * Endpoints: `POST /revocations`, `POST /purge`, `GET /stats`, `GET /` (the stats page).
 */
export function adminApp({
  directory,
  resolver,
  runtime,
  now,
  log,
  purges = null,
  coalescer = null,
  stats = null,
}: AdminOptions): Hono<AdminEnv> {
  const admin = new Hono<AdminEnv>();

  admin.use(async function adminTenant(c, next) {
    const tenant = await tenantOf(directory, c.req.raw, (work) => c.executionCtx.waitUntil(work), log);
    if (tenant instanceof Response) return tenant;
    if (!tenant) return errorResponse("UNKNOWN_HOST");
    if (!tenant.admin) return errorResponse("ADMIN_NOT_FOUND");
    // A config naming a secret the Worker lacks is an operator's problem: 503 and a log line
    // (also listed by GET /__brim/platform/config), never a 401 that blames the caller.
    const secret = secretOf(c, tenant);
    if (typeof secret !== "string" || secret === "") {
      log({ event: "admin-not-configured", tenant: tenant.id, detail: `Worker secret ${tenant.admin.tokenEnv} is not set` });
      return errorResponse("ADMIN_NOT_CONFIGURED", { "retry-after": "60" });
    }
    c.set("adminTenant", tenant);
    await next();
  });

  // RFC 6750 §3: a challenge naming the tenant's realm on every refusal.
  const challenge = (c: Context<AdminEnv>) => `Bearer realm="${c.var.adminTenant.id} admin"`;
  const refused = (c: Context<AdminEnv>) => {
    log({ event: "admin-unauthorized", tenant: c.var.adminTenant.id, detail: "token mismatch" });
    return errorResponse("ADMIN_UNAUTHORIZED", { "www-authenticate": challenge(c) });
  };
  admin.use(
    bearerAuth<AdminEnv>({
      verifyToken: (token, c) => adminTokenMatches(`Bearer ${token}`, secretOf(c, c.var.adminTenant)),
      noAuthenticationHeader: { message: refused, wwwAuthenticateHeader: challenge },
      invalidAuthenticationHeader: { message: refused, wwwAuthenticateHeader: challenge },
      invalidToken: { message: refused, wwwAuthenticateHeader: challenge },
    }),
  );

  const limit = bodyLimit({ maxSize: ADMIN_MAX_BODY_BYTES, onError: bodyTooLarge(ADMIN_MAX_BODY_BYTES) });

  if (purges) {
    admin.post("/purge", limit, (c) => handlePurge(c.req.raw, { tenant: c.var.adminTenant, resolver, purges, coalescer, now: now(), log }));
    admin.all("/purge", () => errorResponse("ADMIN_METHOD_NOT_ALLOWED", { allow: "POST" }));
  }
  if (stats) {
    admin.get("/", (c) => statsPage(c.var.adminTenant.id, stats, now()));
    admin.all("/", () => errorResponse("ADMIN_METHOD_NOT_ALLOWED", { allow: "GET" }));
    admin.get("/stats", (c) => statsResponse(c.var.adminTenant.id, stats, now()));
    admin.all("/stats", () => errorResponse("ADMIN_METHOD_NOT_ALLOWED", { allow: "GET" }));
  }
  admin.post("/revocations", limit, (c) => {
    const tenant = c.var.adminTenant;
    const client = runtime.forTenant(tenant)?.revocations;
    if (!client) {
      log({ event: "admin-not-configured", tenant: tenant.id, detail: "no auth.revocation (or no RevocationList namespace)" });
      return errorResponse("ADMIN_NOT_FOUND");
    }
    return pushRevocations(c.req.raw, client, { tenantId: tenant.id, now: now(), log });
  });
  admin.all("/revocations", () => errorResponse("ADMIN_METHOD_NOT_ALLOWED", { allow: "POST" }));
  admin.all("*", () => errorResponse("ADMIN_NOT_FOUND"));
  return admin;
}

/** The tenant's admin token, from the Worker secret its config names (undefined when unset). */
function secretOf(c: Context<AdminEnv>, tenant: Tenant): unknown {
  return (c.env as unknown as Record<string, unknown>)[tenant.admin?.tokenEnv ?? ""];
}
