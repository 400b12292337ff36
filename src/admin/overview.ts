/**
 * `GET /__brim/all` (HTML) and `GET /__brim/all/stats` (JSON): the platform view, for the
 * platform token (header) or a platform session (cookie, GET only). Reads the StatsLog objects of
 * at most STATS_PLATFORM_MAX_TENANTS tenants of the active config (in id order), in parallel; a
 * tenant whose object fails is listed as unavailable, not dropped.
 */
import type { Context } from "hono";
import { STATS_PAGE_REFRESH_SECONDS, STATS_PLATFORM_MAX_TENANTS } from "../constants";
import { errorResponse } from "../errors";
import { htmlPage } from "../stats/endpoint";
import type { StatsReport } from "../stats/object";
import { platformReport, renderPlatformPage, type PlatformReport } from "../stats/overview";
import type { StatsRecorder } from "../stats/recorder";
import { LOGIN_PAGE } from "./login";
import { jsonAnswer } from "./respond";
import { checkSession } from "./session";
import { adminTokenMatches } from "./token";

export interface PlatformViewOptions {
  readonly stats: StatsRecorder;
  readonly tenantIds: () => Promise<readonly string[]>;
  /** Epoch ms. */
  readonly now: () => number;
  readonly log: (event: Record<string, unknown>) => void;
  readonly platformToken: (c: Context) => unknown;
  /** Whether the request's Host is one no tenant serves: the only place a platform session cookie counts (src/admin/login.ts). */
  readonly platformHost: (c: Context) => Promise<boolean>;
}

export function platformView({ stats, tenantIds, now, log, platformToken, platformHost }: PlatformViewOptions) {
  /** null: allowed; else the refusal (the page sends browsers to the form). */
  async function refusal(c: Context, page: boolean): Promise<Response | null> {
    const token = platformToken(c);
    if (typeof token !== "string" || token === "") {
      log({ event: "platform-not-configured", detail: "Worker secret BRIM_PLATFORM_TOKEN is not set" });
      return errorResponse("PLATFORM_NOT_CONFIGURED");
    }
    const header = c.req.header("authorization");
    if (header !== undefined) return (await adminTokenMatches(header, token)) ? null : unauthorized(log);
    const session = await checkSession(c, { kind: "platform" }, token, now());
    // A cookie on a tenant's host (set before this rule, or while the config was unreadable) is
    // usable by that tenant's scripts: it never opens the platform view there.
    if (session === "valid") {
      if (await platformHost(c)) return null;
      log({ event: "admin-session-refused", scope: "platform", detail: "platform session on a tenant's host" });
      return unauthorized(log);
    }
    if (session !== "missing") log({ event: "admin-session-refused", scope: "platform", detail: session });
    return page ? c.redirect(LOGIN_PAGE, 303) : unauthorized(log);
  }

  async function read(): Promise<PlatformReport> {
    const ids = [...(await tenantIds())].sort();
    const chosen = ids.slice(0, STATS_PLATFORM_MAX_TENANTS);
    const at = now();
    const reports = await Promise.all(
      chosen.map(async (tenant): Promise<{ tenant: string; report: StatsReport | null }> => {
        try {
          await stats.flush(tenant, at);
          return { tenant, report: await stats.stub(tenant).read() };
        } catch (error) {
          log({ event: "platform-stats-unavailable", tenant, detail: String(error) });
          return { tenant, report: null };
        }
      }),
    );
    return platformReport(reports, ids.length, STATS_PLATFORM_MAX_TENANTS);
  }

  return {
    async page(c: Context): Promise<Response> {
      const refused = await refusal(c, true);
      if (refused) return refused;
      return htmlPage(renderPlatformPage(await read(), new Date(now()).toISOString(), STATS_PAGE_REFRESH_SECONDS));
    },
    async json(c: Context): Promise<Response> {
      const refused = await refusal(c, false);
      if (refused) return refused;
      return jsonAnswer(200, { at: new Date(now()).toISOString(), ...(await read()) });
    },
  };
}

function unauthorized(log: (event: Record<string, unknown>) => void): Response {
  log({ event: "platform-unauthorized" });
  return errorResponse("PLATFORM_UNAUTHORIZED", { "www-authenticate": 'Bearer realm="brim platform"' });
}
