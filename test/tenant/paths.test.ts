/**
 * One canonical path (issue #11 §1), end to end in workerd against an origin that normalises
 * paths like nginx/Tomcat (`/norm/` mode of the test origin) and reflects what it received.
 * For every attack spelling: a protected resource is never reached without a valid token, the
 * origin never sees the spelling, and a clean client afterwards never sees the attacker's input.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createBrim } from "../../src/app";
import { loadConfig } from "../../src/tenant/load";
import { purge, uniqueTenant } from "../purge/support";
import { testBrim } from "../support/brim";
import { authBlock, goodClaims, hmacKey, JWT_SECRET_ENV, sign } from "../support/jwt";
import { count, originUrl, requests, script, uniquePath } from "../support/origin";

const AMBIGUOUS = "Bad Request: the path is ambiguous (encoded separators, dot or empty segments, or parameters)\n";
const PRIVATE_BODY = "secret for {header:x-client} via {path}";
const CACHED = { "cache-control": "public, max-age=600", "content-type": "text/plain" };

/**
 * A tenant in front of a normalising origin: `/private/*` needs a token; `/static/*` caches
 * everything for everyone; a catch-all proxies the rest. Attacks try to reach `/private/x`.
 */
async function setup(extraRoutes: Record<string, unknown>[] = []) {
  const base = uniquePath();
  const origin = `${originUrl()}/norm`;
  const brim = testBrim([
    {
      id: "acme",
      auth: authBlock({ secretEnv: JWT_SECRET_ENV }, { algorithms: ["HS256"] }),
      routes: [
        ...extraRoutes.map((route) => ({ origin, ...route, path: `${base}${String(route.path)}` })),
        // x-client is reflected into bodies, so it is keyed (issue #11 §2: an unkeyed header
        // never reaches the origin on a cacheable route).
        { path: `${base}/private/*`, origin, auth: "required", cache: { key: { headers: ["x-client"] } } },
        { path: `${base}/static/*`, origin, cache: { ttl: 600, override: true, key: { headers: ["x-client"] } } },
        { path: "/*", origin, cache: false },
      ],
    },
  ]);
  await script(`/norm${base}/private/x`, [{ headers: CACHED, body: PRIVATE_BODY }]);
  await script(`/norm${base}/static/app.js`, [{ headers: CACHED, body: "static via {path} for {header:x-client} #{count}" }]);
  const token = await sign(await hmacKey(), goodClaims(brim.clock.now()));
  return { base, brim, token };
}

/** [spelling relative to the tenant's base, status without a token]. */
const ATTACKS: [string, number][] = [
  ["/static/..%2fprivate/x", 400],
  ["/static/..%2Fprivate/x", 400],
  ["/static/%2e%2e%2fprivate/x", 400],
  ["/static/..%5cprivate/x", 400],
  ["/static/..;/private/x", 400],
  ["/static/%252e%252e/private/x", 400],
  ["/static/..%252fprivate/x", 400],
  ["/static%2f..%2fprivate/x", 400],
  ["//private/x", 400],
  // The URL parser (the test's and workerd's alike) resolves this to /static/private/x, which
  // Brim routes and forwards as such: the origin never gets a spelling it reads as /private/x.
  ["/static//../private/x", 200],
  ["/private;/x", 400],
  ["/private;jsessionid=1/x", 400],
  ["/private%3b/x", 400],
  ["/private%2fx", 400],
  ["/private/x%00.js", 400],
  ["/private%0a/x", 400],
  // Spellings that are the protected path itself: routed there, so a token is required.
  ["/%70rivate/x", 401],
  ["/%70%72%69%76%61%74%65/x", 401],
  ["/priv%61te/x", 401],
  ["/static/%2e%2e/private/x", 401],
  ["/static/.%2E/private/x", 401],
  ["/static/..\\private/x", 401],
  ["/private/%2e/x", 401],
];

describe("attack spellings never reach a protected resource without a token", () => {
  it.each(ATTACKS)("%s → %i, and a clean client afterwards sees only its own response", async (attack, status) => {
    const { base, brim, token } = await setup();
    const attacker = { "x-client": "attacker-marker" };
    const res = await brim.fetch(`${base}${attack}`, { headers: attacker });
    expect(res.status).toBe(status);
    const body = await res.text();
    expect(body).not.toContain("secret");
    if (status >= 400) expect(res.headers.get("cache-control")).toBe("no-store");
    if (status === 400) expect(body).toBe(AMBIGUOUS);
    // The origin never saw the attack: it reads every spelling above as /private/x (or a
    // neighbour), and nothing reached it.
    expect(await count(`/norm${base}/private/x`)).toBe(0);
    expect(await count(`/norm${base}/static/app.js`)).toBe(0);

    // Clean clients: without a token nothing; with one, their own response, by the canonical path.
    expect((await brim.fetch(`${base}/private/x`)).status).toBe(401);
    const clean = await brim.fetch(`${base}/private/x`, { token, headers: { "x-client": "clean" } });
    expect(await clean.text()).toBe(`secret for clean via /norm${base}/private/x`);
    const asset = await brim.fetch(`${base}/static/app.js`, { headers: { "x-client": "clean" } });
    expect(await asset.text()).toBe(`static via /norm${base}/static/app.js for clean #1`);
    // The attack spelling again, from the clean client: the same answer, nothing stored by it.
    const again = await brim.fetch(`${base}${attack}`, { headers: { "x-client": "clean" } });
    expect(again.status).toBe(status);
    expect(await again.text()).not.toMatch(/attacker|secret/);
  });

  it("with a token, an equivalent spelling is routed, authorized, keyed and forwarded as the canonical path", async () => {
    const { base, brim, token } = await setup();
    await script(`/norm${base}/static/logo.png`, [{ headers: CACHED, body: "logo via {path} #{count}" }]);
    const first = await brim.fetch(`${base}/%73tatic/logo%2Epng`);
    expect(await first.text()).toBe(`logo via /norm${base}/static/logo.png #1`);
    // Every spelling of it is the same entry.
    for (const spelling of [`${base}/static/logo.png`, `${base}/st%61tic/%6c%6F%67%6F.png`]) {
      const hit = await brim.fetch(spelling);
      expect(hit.headers.get("cache-status"), spelling).toMatch(/^Brim; hit/);
      expect(await hit.text()).toBe(`logo via /norm${base}/static/logo.png #1`);
    }
    const res = await brim.fetch(`${base}/%70rivate/x`, { token, headers: { "x-client": "alice" } });
    expect(await res.text()).toBe(`secret for alice via /norm${base}/private/x`);
    expect((await requests(`/norm${base}/private/x`)).requests.map((r) => r.url)).toStrictEqual([`/norm${base}/private/x`]);
  });

  it("ambiguous paths are logged with their reason", async () => {
    const { base, brim } = await setup();
    await brim.fetch(`${base}/static/..%2fprivate/x`);
    expect(brim.logs).toContainEqual({ event: "path-rejected", tenant: "acme", reason: "encoded-slash" });
  });
});

describe('ambiguousPaths: "forward" (per-route opt-out)', () => {
  it("forwards %2F, // and ; exactly as keyed, and equivalent spellings share one entry", async () => {
    const { base, brim } = await setup([{ path: "/files/*", ambiguousPaths: "forward", cache: { ttl: 600, override: true } }]);
    for (const name of ["a%2Fb.txt", "dir//c.txt", "d;v=1/e.txt"]) {
      await script(`/norm${base}/files/${name}`, [{ headers: CACHED, body: "file {path} #{count}" }]);
    }
    // nginx would read /files/a%2Fb.txt as /files/a/b.txt; this route's origin is declared to treat it as data.
    const first = await brim.fetch(`${base}/files/a%2fb.txt`);
    expect(first.status).toBe(200);
    expect(await first.text()).toBe(`file /norm${base}/files/a%2Fb.txt #1`);
    const hit = await brim.fetch(`${base}/files/%61%2Fb.txt`);
    expect(hit.headers.get("cache-status")).toMatch(/^Brim; hit/);
    for (const [path, sent] of [
      [`${base}/files/dir//c.txt`, `/norm${base}/files/dir//c.txt`],
      [`${base}/files/d;v=1/e.txt`, `/norm${base}/files/d;v=1/e.txt`],
    ]) {
      const res = await brim.fetch(path!);
      expect(await res.text()).toBe(`file ${sent} #1`);
    }
  });

  it("refuses a spelling whose normalised reading belongs to another route", async () => {
    const { base, brim, token } = await setup([{ path: "/files/*", ambiguousPaths: "forward" }]);
    for (const attack of ["/files/..%2fprivate/x", "/files/..;/private/x", "/files/..%5Cprivate/x", "/files/%2e%2e%2fstatic/app.js"]) {
      const res = await brim.fetch(`${base}${attack}`, { token });
      expect(res.status, attack).toBe(400);
    }
    expect(await count(`/norm${base}/private/x`)).toBe(0);
    expect(await count(`/norm${base}/static/app.js`)).toBe(0);
  });

  it("an opted-out catch-all still refuses //private/x and /private;/x when /private/* is a route", async () => {
    const base = uniquePath();
    const origin = `${originUrl()}/norm`;
    const brim = testBrim([
      {
        id: "acme",
        auth: authBlock({ secretEnv: JWT_SECRET_ENV }, { algorithms: ["HS256"] }),
        routes: [
          { path: "/private/*", origin, auth: "required" },
          { path: "/*", origin, cache: false, ambiguousPaths: "forward" },
        ],
      },
    ]);
    await script(`/norm/private${base}`, [{ body: "secret" }]);
    for (const attack of [`//private${base}`, `/private;${base}`, `/x/..%2Fprivate${base}`]) {
      const res = await brim.fetch(attack);
      expect(res.status, attack).toBe(400);
    }
    expect((await brim.fetch(`/%70rivate${base}`)).status).toBe(401);
    expect(await count(`/norm/private${base}`)).toBe(0);
    // What no route protects goes through, as sent.
    const passed = await brim.fetch(`/open//a%2Fb${base}`);
    expect(await passed.text()).toBe(`origin:/norm/open//a%2Fb${base}#1`);
  });

  it("a default route still answers 400 for the same spelling", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: false }] });
    const path = `${uniquePath()}/sub%2Fdir/file.txt`;
    const res = await brim.fetch(path);
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(AMBIGUOUS);
    expect(await count(path)).toBe(0);
  });
});

describe("the canonical path everywhere else", () => {
  it("a POST to an equivalent spelling invalidates the canonical entry, and so does a Location spelt differently", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { ttl: 600, override: true } }] });
    const base = uniquePath();
    for (const name of ["a", "b"]) await script(`${base}/${name}`, [{ body: `${name}{count}` }]);
    await script(`${base}/post`, [{ status: 201, headers: { location: `${base}/%62` }, body: "" }]);
    expect(await (await brim.fetch(`${base}/a`)).text()).toBe("a1");
    expect(await (await brim.fetch(`${base}/b`)).text()).toBe("b1");
    expect((await brim.fetch(`${base}/%61`, { method: "POST", body: "x" })).status).toBe(200);
    expect((await brim.fetch(`${base}/post`, { method: "POST", body: "x" })).status).toBe(201);
    expect(await (await brim.fetch(`${base}/a`)).text()).toBe("a3");
    expect(await (await brim.fetch(`${base}/b`)).text()).toBe("b2");
  });

  it("purge URLs and prefixes are canonicalised like requests; an ambiguous purge URL is refused", async () => {
    const id = uniqueTenant();
    const brim = testBrim({ [id]: [{ path: "/*", cache: { ttl: 600, override: true } }] }, { purge: true });
    const host = `${id}.test`;
    const base = uniquePath();
    for (const name of ["a", "b"]) await script(`${base}/${name}`, [{ body: `${name}{count}` }]);
    for (const name of ["a", "b"]) expect(await (await brim.fetch(`${base}/${name}`, { host })).text()).toBe(`${name}1`);
    const res = await purge(brim, host, { urls: [`${base}/%61`], prefixes: [`${base}/%62`] });
    expect(await res.json()).toMatchObject({ ok: true, urls: [`${base}/a`], prefixes: [`${base}/b`] });
    for (const name of ["a", "b"]) expect(await (await brim.fetch(`${base}/${name}`, { host })).text()).toBe(`${name}2`);
    const refused = await purge(brim, host, { urls: [`${base}/x/..%2fa`] });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ ok: false, problem: expect.stringContaining("encoded-slash") });
  });

  it("keeps the request's cf properties when the path is rewritten (compression reads cf.clientAcceptEncoding)", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: false }] });
    const path = uniquePath();
    await script(path, [{ headers: { "content-type": "text/plain" }, body: "x".repeat(4096) }]);
    const spelt = path.replace("/t/", "/%74/");
    const res = await brim.fetch(spelt, {
      headers: { "accept-encoding": "identity" },
      cf: { clientAcceptEncoding: "gzip" },
    } as RequestInit);
    expect(res.headers.get("content-encoding")).toBe("gzip");
  });
});

describe("Host syntax", () => {
  const config = loadConfig({
    tenants: [
      {
        id: "acme",
        hosts: ["acme.test"],
        origin: originUrl(),
        routes: [{ path: "/*", cache: false }],
        admin: { tokenEnv: "TEST_ADMIN_TOKEN" },
      },
    ],
  });
  const app = createBrim({ config, log: () => {} });
  async function withHost(host: string, path = "/x"): Promise<Response> {
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(`http://acme.test${path}`, { headers: { host } }), env, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  }

  it.each(["a b", "acme.test:x", "acme.test:80:80", "user@acme.test", "acme.test/x", "[::1", "bücher.test", "acme.test\\"])(
    "%s is 400, before any tenant or admin lookup",
    async (host) => {
      for (const path of ["/x", "/__brim/stats"]) {
        const res = await withHost(host, path);
        expect(res.status, path).toBe(400);
        expect(res.headers.get("cache-control")).toBe("no-store");
        expect(await res.text()).toBe("Bad Request: the Host header is not a valid host\n");
      }
    },
  );

  it.each(["unknown.test", "acme.test.", "acme.test:8443", "under_score.test", "[::1]:8787", "192.0.2.1"])(
    "%s is valid but unknown: 421",
    async (host) => {
      expect((await withHost(host)).status).toBe(421);
    },
  );
});
