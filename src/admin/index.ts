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
import { LOGIN_PAGE, login, loginForm, logout } from "./login";
import { platformView } from "./overview";
import { handlePurge } from "./purge";
import { bodyTooLarge } from "./respond";
import { pushRevocations } from "./revocations";
import { checkSession } from "./session";
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
  /** Every tenant id of the active config, for the platform view (`GET /__brim/all`); null: no platform view. */
  readonly tenantIds?: (() => Promise<readonly string[]>) | null;
}

/** The reads a browser session may make (GET only: a cookie never authorizes a purge or a push; CSRF). */
const PAGE_PATH = /^\/__brim\/?$/;
const STATS_PATH = "/__brim/stats";

/** The admin sub-app's own variable: the tenant the Host names. */
type AdminEnv = { Bindings: AppEnv["Bindings"]; Variables: AppEnv["Variables"] & { adminTenant: Tenant } };

/**
 * Everything under `/__brim/`, mounted by src/app.ts before tenant routing: answered here,
 * never proxied or cached, whatever the tenant's routes say. The tenant is found by Host; its
 * `admin.tokenEnv` secret must be presented as a bearer token (hono/bearer-auth, compared in
 * constant time) before anything else is revealed; request bodies are bounded (hono/body-limit).
 * Endpoints: `POST /revocations`, `POST /purge`, `GET /stats`, `GET /` (the stats page).
 * Browsers: `GET /` and `GET /stats` also accept a session cookie (`/login`, src/admin/login.ts);
 * `GET /` without any credentials sends the browser to the login form. `GET /all` and
 * `GET /all/stats` are the platform view (platform token or platform session, any Host).
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
  tenantIds = null,
}: AdminOptions): Hono<AdminEnv> {
  const admin = new Hono<AdminEnv>();
  const limit = bodyLimit({ maxSize: ADMIN_MAX_BODY_BYTES, onError: bodyTooLarge(ADMIN_MAX_BODY_BYTES) });

  // Before the tenant and token checks: the form works for any Host, and a refusal is the same
  // whether or not the Host names a tenant.
  admin.get("/login", () => loginForm());
  admin.post("/login", limit, async (c) => {
    const found = await tenantOf(directory, c.req.raw, (work) => c.executionCtx.waitUntil(work), log);
    const tenant = found instanceof Response ? null : found;
    return login(c, {
      tenant,
      tenantToken: tenant ? secretOf(c, tenant) : undefined,
      platformToken: platformTokenOf(c),
      platformHost: found === null,
      now: now(),
      log,
    });
  });
  admin.all("/login", () => errorResponse("ADMIN_METHOD_NOT_ALLOWED", { allow: "GET, POST" }));
  admin.post("/logout", (c) => logout(c));
  admin.all("/logout", () => errorResponse("ADMIN_METHOD_NOT_ALLOWED", { allow: "POST" }));
  if (stats && tenantIds) {
    // null: the directory knows this Host serves no tenant (a Response: the config is unreadable, so unknown).
    const platformHost = async (c: Context) =>
      (await tenantOf(directory, c.req.raw, (work) => c.executionCtx.waitUntil(work), log)) === null;
    const view = platformView({ stats, tenantIds, now, log, platformToken: platformTokenOf, platformHost });
    admin.get("/all", view.page);
    admin.get("/all/stats", view.json);
    admin.all("/all", () => errorResponse("ADMIN_METHOD_NOT_ALLOWED", { allow: "GET" }));
    admin.all("/all/stats", () => errorResponse("ADMIN_METHOD_NOT_ALLOWED", { allow: "GET" }));
  }

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
  const bearer = bearerAuth<AdminEnv>({
    verifyToken: (token, c) => adminTokenMatches(`Bearer ${token}`, secretOf(c, c.var.adminTenant)),
    noAuthenticationHeader: { message: refused, wwwAuthenticateHeader: challenge },
    invalidAuthenticationHeader: { message: refused, wwwAuthenticateHeader: challenge },
    invalidToken: { message: refused, wwwAuthenticateHeader: challenge },
  });
  admin.use(async function adminAuth(c, next) {
    const page = PAGE_PATH.test(c.req.path);
    const read = (c.req.method === "GET" || c.req.method === "HEAD") && (page || c.req.path === STATS_PATH);
    // A header, when sent, decides alone; a cookie opens only the GET reads (never a POST: CSRF).
    if (read && c.req.header("authorization") === undefined) {
      const tenant = c.var.adminTenant;
      const session = await checkSession(c, { kind: "tenant", tenantId: tenant.id }, String(secretOf(c, tenant)), now());
      if (session === "valid") return next();
      if (session !== "missing") log({ event: "admin-session-refused", tenant: tenant.id, detail: session });
      // A browser with no (valid) session is sent to the form; API clients get the 401 below.
      if (page) return c.redirect(LOGIN_PAGE, 303);
    }
    return bearer(c, next);
  });

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

/** BRIM_PLATFORM_TOKEN (undefined when unset). */
function platformTokenOf(c: Context): unknown {
  return (c.env as unknown as Record<string, unknown> | undefined)?.BRIM_PLATFORM_TOKEN;
}

/** The tenant's admin token, from the Worker secret its config names (undefined when unset). */
function secretOf(c: Context<AdminEnv>, tenant: Tenant): unknown {
  return (c.env as unknown as Record<string, unknown>)[tenant.admin?.tokenEnv ?? ""];
}
