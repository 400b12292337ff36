/**
 * `GET /__brim/login` (a form), `POST /__brim/login` (the token in the form body → a session
 * cookie, src/admin/session.ts, then 303 to the page) and `POST /__brim/logout`. The token is
 * checked against the Host's tenant admin token and the platform token, both in constant time
 * (src/admin/token.ts); a refusal looks the same whether or not the Host names a tenant.
 */
import type { Context } from "hono";
import { escapeXml } from "../stats/chart";
import { htmlPage } from "../stats/endpoint";
import type { Tenant } from "../tenant/types";
import { startSession, endSession } from "./session";
import { adminTokenMatches } from "./token";

/** Where each kind of session lands after logging in. */
export const TENANT_PAGE = "/__brim/";
export const PLATFORM_PAGE = "/__brim/all";
export const LOGIN_PAGE = "/__brim/login";

/** Options of `login`. */
export interface LoginOptions {
  /** The Host's tenant (null: none, or a config that is not readable: the same refusal). */
  readonly tenant: Tenant | null;
  /** The tenant's admin token (its Worker secret), when set. */
  readonly tenantToken: unknown;
  /** BRIM_PLATFORM_TOKEN, when set. */
  readonly platformToken: unknown;
  /**
   * Whether the Host is one no tenant serves (the directory answered "no tenant"). Only there may
   * the platform token open a session: on a tenant's host the tenant's own pages could use the
   * cookie (same origin: SameSite and HttpOnly do not stop a script's `fetch("/__brim/all/stats")`).
   */
  readonly platformHost: boolean;
  /** Epoch ms. */
  readonly now: number;
  readonly log: (event: Record<string, unknown>) => void;
}

/** The form; `problem` is shown above it (after a refused token or an expired session). */
export function loginForm(problem: string | null = null, status = 200): Response {
  const note = problem === null ? "" : `<p id="problem" role="alert">${escapeXml(problem)}</p>`;
  return htmlPage(
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Brim · log in</title>
<style>body{font:14px system-ui,sans-serif;margin:48px auto;max-width:420px;color:#222}input{width:100%;padding:6px;margin:8px 0}#problem{color:#c33}</style></head>
<body><h1>Brim stats</h1>${note}
<form method="post" action="${LOGIN_PAGE}"><label for="token">Tenant admin token or platform token</label>
<input id="token" type="password" name="token" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button></form>
<p>The session lasts 12 hours, in this browser only; rotating the token ends it.</p></body></html>
`,
    status,
  );
}

/** Why the platform token opens no session here (the operator knows the token: say what to do). */
export const PLATFORM_HOST_ONLY =
  "The platform token opens a browser session only on a host no tenant serves (for example the Worker's own workers.dev host): a tenant's pages could use it. Send it as an Authorization header instead.";

/** `POST /__brim/login`: 303 to the tenant's page or the platform view with a session cookie, or 401 and the form. */
export async function login(c: Context, { tenant, tenantToken, platformToken, platformHost, now, log }: LoginOptions): Promise<Response> {
  const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  const given = typeof form.token === "string" ? form.token.trim() : "";
  // Both comparisons always run, so timing says no more than the answer does.
  const [asTenant, asPlatform] = await Promise.all([
    adminTokenMatches(`Bearer ${given}`, tenant?.admin ? tenantToken : undefined),
    adminTokenMatches(`Bearer ${given}`, platformToken),
  ]);
  if (given !== "" && asTenant && tenant) {
    await startSession(c, { kind: "tenant", tenantId: tenant.id }, given, now);
    log({ event: "admin-login", tenant: tenant.id, scope: "tenant" });
    return c.redirect(TENANT_PAGE, 303);
  }
  if (given !== "" && asPlatform) {
    if (!platformHost) {
      log({ event: "admin-login-refused", tenant: tenant?.id, scope: "platform", detail: "platform session on a tenant's host" });
      return loginForm(PLATFORM_HOST_ONLY, 403);
    }
    await startSession(c, { kind: "platform" }, given, now);
    log({ event: "admin-login", scope: "platform" });
    return c.redirect(PLATFORM_PAGE, 303);
  }
  log({ event: "admin-login-refused", tenant: tenant?.id, detail: "token mismatch" });
  return loginForm("That token was not accepted.", 401);
}

/** `POST /__brim/logout`: clears the cookie, back to the form. */
export function logout(c: Context): Response {
  endSession(c);
  return c.redirect(LOGIN_PAGE, 303);
}
