import type { Handler } from "hono";
import type { AuthRuntime } from "../auth/runtime";
import type { AppEnv } from "../env";
import { errorResponse } from "../errors";
import type { TenantResolver } from "../tenant/match";
import type { Coalescer } from "../coalesce/object";
import type { PurgeRegistry } from "../purge/client";
import { handlePurge } from "./purge";
import type { StatsRecorder } from "../stats/recorder";
import { statsPage, statsResponse } from "../stats/endpoint";
import { pushRevocations } from "./revocations";
import { adminTokenMatches } from "./token";

/** Options of `adminEndpoints`. */
export interface AdminOptions {
  readonly resolver: TenantResolver;
  readonly runtime: AuthRuntime;
  /** Epoch ms. */
  readonly now: () => number;
  readonly log: (event: Record<string, unknown>) => void;
  /** Purge marks (src/purge/); null: no `/__brim/purge`. */
  readonly purges?: PurgeRegistry | null;
  /** Told to forget kept responses of purged URLs. */
  readonly coalescer?: DurableObjectNamespace<Coalescer> | null;
  /** Counts (src/stats/); null: no `/__brim/stats`. */
  readonly stats?: StatsRecorder | null;
}

/**
 * Everything under `/__brim/`: answered here, never proxied or cached, whatever the tenant's
 * routes say. The tenant is found by Host; its `admin.tokenEnv` secret must be presented as a
 * bearer token before anything else is revealed. Endpoints: `POST /__brim/revocations`,
 * `POST /__brim/purge`, `GET /__brim/stats`, `GET /__brim/` (the stats page).
 */
export function adminEndpoints({ resolver, runtime, now, log, purges = null, coalescer = null, stats = null }: AdminOptions): Handler<AppEnv> {
  return async function adminEndpoints(c) {
    const tenant = resolver.tenantFor(c.req.header("host") ?? new URL(c.req.url).host);
    if (!tenant) return errorResponse("UNKNOWN_HOST");
    if (!tenant.admin) return errorResponse("ADMIN_NOT_FOUND");
    const secret = (c.env as unknown as Record<string, unknown>)[tenant.admin.tokenEnv];
    if (!(await adminTokenMatches(c.req.header("authorization") ?? null, secret))) {
      log({ event: "admin-unauthorized", tenant: tenant.id, detail: typeof secret === "string" && secret ? "token mismatch" : `Worker secret ${tenant.admin.tokenEnv} is not set` });
      return errorResponse("ADMIN_UNAUTHORIZED", { "www-authenticate": `Bearer realm="${tenant.id} admin"` });
    }
    const pathname = new URL(c.req.url).pathname;
    if (pathname === "/__brim/purge" && purges) {
      if (c.req.method !== "POST") return errorResponse("ADMIN_METHOD_NOT_ALLOWED", { allow: "POST" });
      return handlePurge(c.req.raw, { tenant, resolver, purges, coalescer, now: now(), log });
    }
    if ((pathname === "/__brim/" || pathname === "/__brim") && stats) {
      if (c.req.method !== "GET") return errorResponse("ADMIN_METHOD_NOT_ALLOWED", { allow: "GET" });
      return statsPage(tenant.id, stats, now());
    }
    if (pathname === "/__brim/stats" && stats) {
      if (c.req.method !== "GET") return errorResponse("ADMIN_METHOD_NOT_ALLOWED", { allow: "GET" });
      return statsResponse(tenant.id, stats, now());
    }
    if (pathname !== "/__brim/revocations") return errorResponse("ADMIN_NOT_FOUND");
    if (c.req.method !== "POST") return errorResponse("ADMIN_METHOD_NOT_ALLOWED", { allow: "POST" });
    const client = runtime.forTenant(tenant)?.revocations;
    if (!client) {
      log({ event: "admin-not-configured", tenant: tenant.id, detail: "no auth.revocation (or no RevocationList namespace)" });
      return errorResponse("ADMIN_NOT_FOUND");
    }
    return pushRevocations(c.req.raw, client, { tenantId: tenant.id, now: now(), log });
  };
}
