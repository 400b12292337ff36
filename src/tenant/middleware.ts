import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { errorResponse } from "../errors";
import { isValidHost } from "../http/host";
import { rawPathOf, withPath } from "../http/path";
import { ConfigUnavailable, type TenantDirectory } from "./directory";
import type { TenantResolver } from "./match";
import type { Tenant } from "./types";

/** Options of `resolveTenant`. */
export interface ResolveTenantOptions {
  /** Structured log sink: rejected paths are logged with their reason (`path-rejected`). */
  readonly log: (event: Record<string, unknown>) => void;
}

/**
 * Answers 400 for a Host header that is not `uri-host [":" port]` (RFC 9110 §7.2), before
 * anything else (the admin endpoints included) looks it up.
 */
export function validHost(): MiddlewareHandler<AppEnv> {
  return async function validHost(c, next) {
    const host = c.req.header("host");
    if (host !== undefined && !isValidHost(host)) return errorResponse("BAD_HOST");
    await next();
  };
}

/**
 * Picks the tenant by Host (case-insensitive, port as sent), then the route and the one
 * canonical path (`TenantResolver.resolvePath`), computed once: it is set as `c.var.path`, and
 * the request continues with that path in its URL, so auth, the cache key, purge stamps and the
 * origin request all read the same string. An unknown host gets 421 and never another tenant's
 * content; an ambiguous path 400 (reason logged); no route 404.
 */
export function resolveTenant(
  directory: TenantDirectory,
  resolver: TenantResolver,
  { log }: ResolveTenantOptions,
): MiddlewareHandler<AppEnv> {
  return async function resolveTenant(c, next) {
    const found = await tenantOf(directory, c.req.raw, (work) => c.executionCtx.waitUntil(work), log);
    if (found instanceof Response) return found;
    const tenant = found;
    if (!tenant) return errorResponse("UNKNOWN_HOST");
    const url = c.req.raw.url;
    const raw = rawPathOf(url);
    const resolved = resolver.resolvePath(tenant, raw);
    if (!resolved.ok) {
      if (resolved.reason === "no-route") return errorResponse("NO_ROUTE");
      log({ event: "path-rejected", tenant: tenant.id, reason: resolved.reason });
      return errorResponse("AMBIGUOUS_PATH");
    }
    // The request goes on with the canonical path in its URL (method, headers, body and `cf`
    // carried over), so nothing downstream can read the client's spelling by mistake.
    if (resolved.path !== raw) c.req.raw = new Request(withPath(url, resolved.path), c.req.raw);
    c.set("tenant", tenant);
    c.set("route", resolved.route);
    c.set("path", resolved.path);
    await next();
  };
}

/**
 * The tenant for the request's Host from `directory` (no I/O when the isolate has it), null for
 * a host no tenant claims, or a 503 when the config store cannot answer (logged): a tenant
 * that cannot be looked up is unavailable, never another tenant or a 421.
 */
export async function tenantOf(
  directory: TenantDirectory,
  request: Request,
  background: (work: Promise<unknown>) => void,
  log: (event: Record<string, unknown>) => void,
): Promise<Tenant | null | Response> {
  const host = request.headers.get("host") ?? new URL(request.url).host;
  try {
    return await directory.lookup(host, background);
  } catch (error) {
    if (!(error instanceof ConfigUnavailable)) throw error;
    log({ event: "config-unavailable", reason: error.reason, detail: error.message });
    return errorResponse(error.reason === "not-configured" ? "NOT_CONFIGURED" : "CONFIG_UNAVAILABLE");
  }
}
