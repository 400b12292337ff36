/**
 * Opening the stats page in a browser: the login form, the session cookie (its attributes,
 * its expiry on the injected clock, its scope), logout, and what a cookie may never do (a POST).
 * Real workerd and the real StatsLog; the "browser" is these requests carrying the cookie.
 */
import { describe, expect, it } from "vitest";
import { ADMIN_SESSION_TTL_MS } from "../../src/constants";
import { ADMIN_TOKEN, ADMIN_TOKEN_ENV } from "../support/jwt";
import { testBrim, type TestBrim } from "../support/brim";
import { PLATFORM_TOKEN } from "../support/store";

function tenantId(): string {
  return `l-${crypto.randomUUID().slice(0, 12)}`;
}

function twoTenants(): { brim: TestBrim; a: string; b: string } {
  const [a, b] = [tenantId(), tenantId()];
  const tenants = [a, b].map((id) => ({ id, admin: { tokenEnv: ADMIN_TOKEN_ENV }, routes: [{ path: "/*", cache: {} }] }));
  return { brim: testBrim(tenants, { stats: true, purge: true }), a, b };
}

async function logIn(brim: TestBrim, host: string, token: string): Promise<Response> {
  return brim.fetch("/__brim/login", {
    host,
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }).toString(),
  });
}

/** The `name=value` part of the Set-Cookie, as a browser would send it back. */
function cookieOf(res: Response): string {
  const set = res.headers.get("set-cookie") ?? "";
  return set.split(";")[0] ?? "";
}

describe("login form and session cookie", () => {
  it("serves the form without credentials; it asks for the token in a POST body, never the URL", async () => {
    const { brim, a } = twoTenants();
    const res = await brim.fetch("/__brim/login", { host: `${a}.test` });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('<form method="post" action="/__brim/login">');
    expect(html).toContain('type="password" name="token"');
    // Without a session the page sends the browser to the form; the JSON API still answers 401.
    const page = await brim.fetch("/__brim/", { host: `${a}.test` });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/__brim/login");
    expect((await brim.fetch("/__brim/stats", { host: `${a}.test` })).status).toBe(401);
  });

  it("a wrong token: 401, the form again and no cookie; the same for a host that is no tenant", async () => {
    const { brim, a } = twoTenants();
    for (const host of [`${a}.test`, "nobody.test"]) {
      const res = await logIn(brim, host, "not-the-token");
      expect(res.status, host).toBe(401);
      expect(res.headers.get("set-cookie"), host).toBeNull();
      expect(await res.text(), host).toContain("That token was not accepted.");
    }
    const empty = await logIn(brim, `${a}.test`, "");
    expect(empty.status).toBe(401);
    expect(empty.headers.get("set-cookie")).toBeNull();
  });

  it("the right token: an HttpOnly, Secure, SameSite=Strict cookie on /__brim, then the page and the JSON open with it alone", async () => {
    const { brim, a } = twoTenants();
    const res = await logIn(brim, `${a}.test`, ADMIN_TOKEN);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/__brim/");
    const set = res.headers.get("set-cookie") ?? "";
    expect(set).toMatch(/^brim_session=/);
    expect(set).toContain("Path=/__brim");
    expect(set).toContain("HttpOnly");
    expect(set).toContain("Secure");
    expect(set).toContain("SameSite=Strict");
    expect(set).toContain(`Max-Age=${ADMIN_SESSION_TTL_MS / 1000}`);
    expect(set).not.toContain(ADMIN_TOKEN);
    const cookie = cookieOf(res);
    const page = await brim.fetch("/__brim/", { host: `${a}.test`, headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`<span id="tenant">${a}</span>`);
    const json = await brim.fetch("/__brim/stats", { host: `${a}.test`, headers: { cookie } });
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({ tenant: a });
    // A wrong Authorization header decides alone, whatever the cookie says.
    const both = await brim.fetch("/__brim/stats", { host: `${a}.test`, headers: { cookie, authorization: "Bearer wrong" } });
    expect(both.status).toBe(401);
  });

  it("plain-http localhost hosts (wrangler dev, npm start) get the cookie without Secure, which a browser would drop there", async () => {
    const { brim } = twoTenants();
    for (const host of ["localhost:8787", "acme.localhost:8787", "127.0.0.1:8787"]) {
      const set = (await logIn(brim, host, PLATFORM_TOKEN)).headers.get("set-cookie") ?? "";
      expect(set, host).toMatch(/^brim_session=.*HttpOnly/);
      expect(set, host).not.toContain("Secure");
    }
  });

  it("the session expires after ADMIN_SESSION_TTL_MS on the injected clock: back to the form", async () => {
    const { brim, a } = twoTenants();
    const cookie = cookieOf(await logIn(brim, `${a}.test`, ADMIN_TOKEN));
    brim.clock.advance(ADMIN_SESSION_TTL_MS / 1000 - 1);
    expect((await brim.fetch("/__brim/", { host: `${a}.test`, headers: { cookie } })).status).toBe(200);
    brim.clock.advance(1);
    const expired = await brim.fetch("/__brim/", { host: `${a}.test`, headers: { cookie } });
    expect(expired.status).toBe(303);
    expect(expired.headers.get("location")).toBe("/__brim/login");
    expect((await brim.fetch("/__brim/stats", { host: `${a}.test`, headers: { cookie } })).status).toBe(401);
    expect(brim.logs).toContainEqual(expect.objectContaining({ event: "admin-session-refused", tenant: a, detail: "expired" }));
  });

  it("tenant A's cookie does not open tenant B's page (same token, other scope), nor a tampered one", async () => {
    const { brim, a, b } = twoTenants();
    const cookie = cookieOf(await logIn(brim, `${a}.test`, ADMIN_TOKEN));
    const other = await brim.fetch("/__brim/", { host: `${b}.test`, headers: { cookie } });
    expect(other.status).toBe(303);
    expect((await brim.fetch("/__brim/stats", { host: `${b}.test`, headers: { cookie } })).status).toBe(401);
    // Rewriting the scope breaks the signature.
    const forged = cookie.replace(encodeURIComponent(`tenant:${a}`), encodeURIComponent(`tenant:${b}`));
    expect(forged).not.toBe(cookie);
    expect((await brim.fetch("/__brim/stats", { host: `${b}.test`, headers: { cookie: forged } })).status).toBe(401);
    expect(brim.logs).toContainEqual(expect.objectContaining({ event: "admin-session-refused", tenant: b, detail: "wrong-scope" }));
    expect(brim.logs).toContainEqual(expect.objectContaining({ event: "admin-session-refused", tenant: b, detail: "invalid" }));
  });

  it("a cookie never authorizes a POST (purge, revocations): CSRF", async () => {
    const { brim, a } = twoTenants();
    const cookie = cookieOf(await logIn(brim, `${a}.test`, ADMIN_TOKEN));
    const purge = await brim.fetch("/__brim/purge", {
      host: `${a}.test`,
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({ urls: ["/x"] }),
    });
    expect(purge.status).toBe(401);
    const revocations = await brim.fetch("/__brim/revocations", { host: `${a}.test`, method: "POST", headers: { cookie }, body: "{}" });
    expect(revocations.status).toBe(401);
  });

  it("logout clears the cookie; the platform token opens a platform session for /__brim/all only, on a host no tenant serves", async () => {
    const { brim, a } = twoTenants();
    const out = await brim.fetch("/__brim/logout", { host: `${a}.test`, method: "POST" });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/^brim_session=;.*Max-Age=0/);

    // The Worker's own host (no tenant serves it): where an operator opens the platform view.
    const platformHost = "brim.platform.test";
    const res = await logIn(brim, platformHost, PLATFORM_TOKEN);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/__brim/all");
    const cookie = cookieOf(res);
    const view = await brim.fetch("/__brim/all", { host: platformHost, headers: { cookie } });
    expect(view.status).toBe(200);
    expect(await view.text()).toContain("Brim · platform");
    // A tenant session does not open the platform view.
    const tenantCookie = cookieOf(await logIn(brim, `${a}.test`, ADMIN_TOKEN));
    expect((await brim.fetch("/__brim/all/stats", { host: `${a}.test`, headers: { cookie: tenantCookie } })).status).toBe(401);
  });

  it("the platform token opens no session on a tenant's host, and a platform cookie there opens nothing (the tenant's scripts share that origin)", async () => {
    const { brim, a } = twoTenants();
    const refused = await logIn(brim, `${a}.test`, PLATFORM_TOKEN);
    expect(refused.status).toBe(403);
    expect(refused.headers.get("set-cookie")).toBeNull();
    expect(await refused.text()).toContain("only on a host no tenant serves");
    // A valid platform cookie (minted on the platform host) replayed on the tenant's host, as a
    // script of that tenant would after an operator's visit: refused for the page and the JSON.
    const cookie = cookieOf(await logIn(brim, "brim.platform.test", PLATFORM_TOKEN));
    expect(cookie).toMatch(/^brim_session=./);
    expect((await brim.fetch("/__brim/all/stats", { host: `${a}.test`, headers: { cookie } })).status).toBe(401);
    expect((await brim.fetch("/__brim/all", { host: `${a}.test`, headers: { cookie } })).status).toBe(401);
    // Not the tenant's page either: that needs the tenant's own session or token.
    expect((await brim.fetch("/__brim/", { host: `${a}.test`, headers: { cookie } })).status).toBe(303);
    // The header still works on any host (a script cannot send the operator's token).
    const withHeader = await brim.fetch("/__brim/all/stats", { host: `${a}.test`, headers: { authorization: `Bearer ${PLATFORM_TOKEN}` } });
    expect(withHeader.status).toBe(200);
  });
});
