/**
 * Tenant isolation: the Host header picks the tenant (case-insensitive, port as sent), an
 * unknown host never sees anyone's content, tenants never share cache entries, and the first
 * route in config order that matches the path handles the request.
 */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/tenant/load";
import { testBrim, type RawRoute, type TestBrim } from "../support/brim";
import { count, originUrl, requests, script, uniquePath } from "../support/origin";

const FRESH = { "cache-control": "max-age=60", "content-type": "text/plain" };
const PLAIN_TEXT = "text/plain; charset=utf-8";
const MISDIRECTED = "Misdirected Request: no site is configured for this host\n";
const NO_ROUTE = "Not Found: no route matches this path\n";

interface TenantSpec {
  id: string;
  hosts: string[];
  routes: RawRoute[];
  origin?: string;
}

/** Brim over explicit tenants (several hosts, ports); the origin defaults to the test origin. */
function brimFor(tenants: TenantSpec[]): TestBrim {
  const config = loadConfig({ tenants: tenants.map((t) => ({ origin: originUrl(), ...t })) });
  return testBrim({ unused: [{ path: "*" }] }, { config });
}

const TWO_TENANTS: TenantSpec[] = [
  { id: "acme", hosts: ["acme.test"], routes: [{ path: "/*" }] },
  { id: "globex", hosts: ["globex.test", "shop.test:8443"], routes: [{ path: "/*" }] },
];

async function expectMisdirected(res: Response): Promise<void> {
  expect(res.status).toBe(421);
  expect(res.headers.get("content-type")).toBe(PLAIN_TEXT);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("cache-status")).toBeNull();
  expect(await res.text()).toBe(MISDIRECTED);
}

describe("unknown hosts", () => {
  it.each([
    "unknown.test",
    "acme.test.evil.example",
    "evil-acme.test",
    "www.acme.test",
    "acme",
    "acme.test.",
    "globex.test:8443",
    "shop.test",
  ])("%s gets 421 with a short plain-text body, never a tenant's stored content", async (host) => {
    const brim = brimFor(TWO_TENANTS);
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "secret catalog of {header:x-forwarded-host}" }]);
    // Both tenants have this path stored; neither may leak to an unknown host.
    expect(await (await brim.fetch(path, { host: "acme.test" })).text()).toBe("secret catalog of acme.test");
    expect(await (await brim.fetch(path, { host: "globex.test" })).text()).toBe("secret catalog of globex.test");

    await expectMisdirected(await brim.fetch(path, { host }));
    expect(await count(path)).toBe(2);
  });

  it("421 for every method, and the origin is never contacted", async () => {
    const brim = brimFor(TWO_TENANTS);
    const path = uniquePath();
    for (const method of ["GET", "HEAD", "POST", "DELETE"]) {
      const res = await brim.fetch(path, { host: "nobody.test", method, ...(method === "POST" ? { body: "x" } : {}) });
      expect(res.status, method).toBe(421);
    }
    expect(await count(path)).toBe(0);
  });
});

describe("Host matching", () => {
  it.each(["ACME.TEST", "Acme.Test", "acme.TEST"])("is case-insensitive: %s is acme", async (host) => {
    const brim = brimFor(TWO_TENANTS);
    const path = uniquePath();
    await script(path, [{ body: "for {header:x-forwarded-host}" }]);
    const res = await brim.fetch(path, { host });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`for ${host}`);
  });

  it("includes the port as sent: shop.test:8443 matches, shop.test and other ports do not", async () => {
    const brim = brimFor(TWO_TENANTS);
    const path = uniquePath();
    expect((await brim.fetch(path, { host: "shop.test:8443" })).status).toBe(200);
    expect((await brim.fetch(path, { host: "SHOP.test:8443" })).status).toBe(200);
    for (const host of ["shop.test", "shop.test:443", "shop.test:8444"]) {
      await expectMisdirected(await brim.fetch(path, { host }));
    }
    expect(await count(path)).toBe(2);
  });

  it("does not drop a default port: acme.test:80 is not acme.test", async () => {
    const brim = brimFor(TWO_TENANTS);
    await expectMisdirected(await brim.fetch(uniquePath(), { host: "acme.test:80" }));
  });
});

describe("tenants never share content", () => {
  it("same path, two tenants: two origin fetches, two bodies, each cached separately", async () => {
    const brim = brimFor(TWO_TENANTS);
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "page for {header:x-forwarded-host} #{count}" }]);

    const acme = await brim.fetch(path, { host: "acme.test" });
    expect(acme.headers.get("cache-status")).toBe("Brim; fwd=uri-miss; fwd-status=200; stored");
    expect(await acme.text()).toBe("page for acme.test #1");
    const globex = await brim.fetch(path, { host: "globex.test" });
    expect(globex.headers.get("cache-status")).toBe("Brim; fwd=uri-miss; fwd-status=200; stored");
    expect(await globex.text()).toBe("page for globex.test #2");

    for (const [host, body] of [
      ["acme.test", "page for acme.test #1"],
      ["globex.test", "page for globex.test #2"],
    ] as const) {
      const hit = await brim.fetch(path, { host });
      expect(hit.headers.get("cache-status")).toMatch(/^Brim; hit/);
      expect(await hit.text()).toBe(body);
    }
    expect(await count(path)).toBe(2);
  });

  it("same path, two tenants with their own origins: each origin is asked once", async () => {
    const brim = brimFor([
      { id: "acme", hosts: ["acme.test"], routes: [{ path: "/*", origin: `${originUrl()}/acme-origin` }] },
      { id: "globex", hosts: ["globex.test"], routes: [{ path: "/*", origin: `${originUrl()}/globex-origin` }] },
    ]);
    const path = uniquePath();
    for (const who of ["acme", "globex"]) await script(`/${who}-origin${path}`, [{ headers: FRESH, body: `${who} content` }]);
    for (let round = 0; round < 2; round++) {
      expect(await (await brim.fetch(path, { host: "acme.test" })).text()).toBe("acme content");
      expect(await (await brim.fetch(path, { host: "globex.test" })).text()).toBe("globex content");
    }
    expect(await count(`/acme-origin${path}`)).toBe(1);
    expect(await count(`/globex-origin${path}`)).toBe(1);
  });

  it("the same key headers and query on two tenants still give two entries", async () => {
    const route = { path: "/*", cache: { key: { query: ["v"], headers: ["accept-language"] } } };
    const brim = brimFor([
      { id: "acme", hosts: ["acme.test"], routes: [route] },
      { id: "globex", hosts: ["globex.test"], routes: [route] },
    ]);
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "{header:x-forwarded-host} {query} #{count}" }]);
    const headers = { "accept-language": "de" };
    expect(await (await brim.fetch(`${path}?v=1`, { host: "acme.test", headers })).text()).toBe("acme.test v=1 #1");
    expect(await (await brim.fetch(`${path}?v=1`, { host: "globex.test", headers })).text()).toBe("globex.test v=1 #2");
  });
});

describe("hosts of one tenant share cache entries", () => {
  it("a response stored through one host is a hit through the others", async () => {
    const brim = brimFor([{ id: "shop", hosts: ["shop.test", "www.shop.test", "shop.test:8443"], routes: [{ path: "/*" }] }]);
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "v{count}" }]);
    const first = await brim.fetch(path, { host: "shop.test" });
    expect(await first.text()).toBe("v1");
    for (const host of ["www.shop.test", "shop.test:8443", "WWW.Shop.Test"]) {
      const res = await brim.fetch(path, { host });
      expect(res.headers.get("cache-status"), host).toMatch(/^Brim; hit/);
      expect(await res.text()).toBe("v1");
    }
    expect(await count(path)).toBe(1);
  });
});

describe("routes", () => {
  it("the first matching route in config order wins, not the most specific", async () => {
    const first = `${originUrl()}/first`;
    const second = `${originUrl()}/second`;
    const brim = brimFor([
      {
        id: "params-first",
        hosts: ["a.test"],
        routes: [
          { path: "/t/:id", origin: first },
          { path: "/t/*", origin: second },
        ],
      },
      {
        id: "wildcard-first",
        hosts: ["b.test"],
        routes: [
          { path: "/t/*", origin: first },
          { path: "/t/:id", origin: second },
        ],
      },
      {
        id: "catch-all-first",
        hosts: ["c.test"],
        routes: [
          { path: "/*", cache: false },
          { path: "/t/:id", cache: {} },
        ],
      },
    ]);
    const path = uniquePath();
    expect(await (await brim.fetch(path, { host: "a.test" })).text()).toBe(`origin:/first${path}#1`);
    expect(await (await brim.fetch(path, { host: "b.test" })).text()).toBe(`origin:/first${path}#2`);
    expect(await count(`/second${path}`)).toBe(0);
    // The catch-all comes first, so the more specific cacheable route never runs.
    expect((await brim.fetch(path, { host: "c.test" })).headers.get("cache-status")).toBe("Brim; fwd=bypass");
  });

  it("a named segment matches exactly one non-empty segment", async () => {
    const base = uniquePath();
    // %2F is ambiguous and refused by default (test/tenant/paths.test.ts); this route opts out.
    const brim = brimFor([
      { id: "acme", hosts: ["acme.test"], routes: [{ path: `${base}/users/:id`, cache: false, ambiguousPaths: "forward" }] },
    ]);
    for (const ok of [`${base}/users/42`, `${base}/users/a%2Fb`]) {
      const res = await brim.fetch(ok, { host: "acme.test" });
      expect(res.status, ok).toBe(200);
      expect(await res.text()).toBe(`origin:${ok}#1`);
    }
    for (const missing of [`${base}/users`, `${base}/users/`, `${base}/users/42/posts`, `${base}/Users/42`, `${base}/usersx/42`]) {
      const res = await brim.fetch(missing, { host: "acme.test" });
      expect(res.status, missing).toBe(404);
      expect(await res.text()).toBe(NO_ROUTE);
      expect(await count(missing)).toBe(0);
    }
  });

  it("a parameter with a regex matches only what the regex allows", async () => {
    const base = uniquePath();
    const brim = brimFor([{ id: "acme", hosts: ["acme.test"], routes: [{ path: `${base}/img/:name{[a-z]+\\.png}`, cache: false }] }]);
    expect((await brim.fetch(`${base}/img/cat.png`, { host: "acme.test" })).status).toBe(200);
    for (const missing of [`${base}/img/cat.gif`, `${base}/img/Cat.png`, `${base}/img/cat.png/x`]) {
      expect((await brim.fetch(missing, { host: "acme.test" })).status, missing).toBe(404);
    }
  });

  it("a final /* matches the prefix and everything below it, not a longer sibling name", async () => {
    const base = uniquePath();
    const brim = brimFor([{ id: "acme", hosts: ["acme.test"], routes: [{ path: `${base}/static/*`, cache: false }] }]);
    for (const ok of [`${base}/static`, `${base}/static/`, `${base}/static/app.js`, `${base}/static/a/b/c.css`]) {
      expect((await brim.fetch(ok, { host: "acme.test" })).status, ok).toBe(200);
    }
    for (const missing of [`${base}/staticfoo`, `${base}/statics/app.js`, `${base}/stat`, base]) {
      expect((await brim.fetch(missing, { host: "acme.test" })).status, missing).toBe(404);
    }
  });

  it('"*" alone matches every path', async () => {
    const brim = brimFor([{ id: "acme", hosts: ["acme.test"], routes: [{ path: "*", cache: false }] }]);
    for (const path of ["/", uniquePath(), `${uniquePath()}/deep/er/file.txt`]) {
      expect((await brim.fetch(path, { host: "acme.test" })).status, path).toBe(200);
    }
  });

  it("dot segments are resolved before routing, so they cannot escape a route", async () => {
    const base = uniquePath();
    const brim = brimFor([{ id: "acme", hosts: ["acme.test"], routes: [{ path: `${base}/public/*`, cache: false }] }]);
    for (const sneaky of [`${base}/public/../admin`, `${base}/public/%2e%2e/admin`, `${base}/public/.%2E/admin`]) {
      const res = await brim.fetch(sneaky, { host: "acme.test" });
      expect(res.status, sneaky).toBe(404);
    }
    expect(await count(`${base}/admin`)).toBe(0);
  });

  it("no matching route gives 404 plain text and no origin request", async () => {
    const base = uniquePath();
    const brim = brimFor([{ id: "acme", hosts: ["acme.test"], routes: [{ path: `${base}/api/*` }] }]);
    const path = `${base}/elsewhere`;
    for (const method of ["GET", "POST"]) {
      const res = await brim.fetch(path, { host: "acme.test", method, ...(method === "POST" ? { body: "x" } : {}) });
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toBe(PLAIN_TEXT);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(await res.text()).toBe(NO_ROUTE);
    }
    expect(await count(path)).toBe(0);
    expect((await requests(`${base}/api/x`)).count).toBe(0);
  });
});
