/**
 * Browser sessions for the stats pages: a short-lived cookie that names its scope (one tenant, or
 * the platform) and its expiry, signed with HMAC-SHA-256 (hono/cookie's signed cookies) under a
 * key derived from the token that opened it, so rotating the token ends every session it opened.
 * The token itself never travels in a URL or a cookie.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { ADMIN_SESSION_COOKIE, ADMIN_SESSION_TTL_MS } from "../constants";

/** Who a session speaks for. */
export type SessionScope = { readonly kind: "tenant"; readonly tenantId: string } | { readonly kind: "platform" };

/** Why a request's session does not open a page (or that it does). */
export type SessionCheck = "valid" | "missing" | "invalid" | "expired" | "wrong-scope";

/** The cookie path: sent with Brim's own pages only, never with a tenant's proxied paths. */
export const SESSION_PATH = "/__brim";
/** Domain separation: the session key is not the token, and not any other key derived from it. */
const KEY_CONTEXT = "brim-admin-session-v1\n";
const SEPARATOR = "|";
const encoder = new TextEncoder();
/** Plain-http hosts where a browser may drop a Secure cookie: local development only (and `*.localhost`, RFC 6761 §6.3). */
const LOCAL_HOSTS: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "[::1]"]);
const LOCAL_SUFFIX = ".localhost";

function scopeName(scope: SessionScope): string {
  return scope.kind === "platform" ? "platform" : `tenant:${scope.tenantId}`;
}

/** The signing secret for sessions opened with `token`: hex SHA-256 of a context string and the token. */
async function sessionSecret(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(KEY_CONTEXT + token)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Sets the session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page
 * sends it: with GET-only acceptance this is the CSRF defence), Path=/__brim, Max-Age = the TTL,
 * Secure unless the page is plain http on localhost (a browser drops Secure cookies there).
 */
export async function startSession(c: Context, scope: SessionScope, token: string, now: number): Promise<void> {
  const expiresAt = now + ADMIN_SESSION_TTL_MS;
  const url = new URL(c.req.url);
  const local = url.protocol === "http:" && (LOCAL_HOSTS.has(url.hostname) || url.hostname.endsWith(LOCAL_SUFFIX));
  await setSignedCookie(c, ADMIN_SESSION_COOKIE, `${scopeName(scope)}${SEPARATOR}${expiresAt}`, await sessionSecret(token), {
    path: SESSION_PATH,
    httpOnly: true,
    secure: !local,
    sameSite: "Strict",
    maxAge: Math.floor(ADMIN_SESSION_TTL_MS / 1000),
  });
}

/** Clears the cookie (logout). */
export function endSession(c: Context): void {
  deleteCookie(c, ADMIN_SESSION_COOKIE, { path: SESSION_PATH });
}

/** The scope the (unverified) cookie claims, to pick the key to verify it with; null without one. */
export function claimedScope(c: Context): "platform" | "tenant" | null {
  const raw = getCookie(c, ADMIN_SESSION_COOKIE);
  if (raw === undefined) return null;
  return decodeURIComponent(raw).startsWith("platform|") ? "platform" : "tenant";
}

/**
 * Whether the request's cookie is a session for `scope`, signed under `token` and unexpired at
 * `now` (epoch ms). The signature check is `crypto.subtle.verify` (constant time).
 */
export async function checkSession(c: Context, scope: SessionScope, token: string, now: number): Promise<SessionCheck> {
  const value = await getSignedCookie(c, await sessionSecret(token), ADMIN_SESSION_COOKIE);
  if (value === undefined) return "missing";
  if (value === false) return "invalid";
  const cut = value.lastIndexOf(SEPARATOR);
  const expiresAt = Number(value.slice(cut + 1));
  if (cut < 0 || !Number.isSafeInteger(expiresAt)) return "invalid";
  if (value.slice(0, cut) !== scopeName(scope)) return "wrong-scope";
  return now < expiresAt ? "valid" : "expired";
}
