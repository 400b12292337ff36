/**
 * Spellings of platform API paths (#16 follow-up): none reaches the config without the platform
 * token, and none is answered by anything but the platform API, an ambiguity refusal, a 404, or
 * (a different path, `/__BRIM`) the tenant's origin. What each does is asserted, so a change in
 * routing that opens a gap fails here. Real ConfigStore and KV.
 */
import { describe, expect, it } from "vitest";
import { PLATFORM_TOKEN, storeBrim, tenantDoc, type StoreBrim } from "../support/store";

async function setup(): Promise<{ brim: StoreBrim; tenantHost: string }> {
  const brim = storeBrim();
  const id = `t-${crypto.randomUUID().slice(0, 8)}`;
  const put = await brim.platform("PUT", "/config", { tenants: [tenantDoc({ id, routes: [{ path: "/*", cache: false }] })] });
  expect(put.status).toBe(200);
  return { brim, tenantHost: `${id}.test` };
}

async function answer(brim: StoreBrim, path: string, host: string, init: { token?: string; method?: string } = {}) {
  const res = await brim.fetch(path, { host, ...init });
  return { status: res.status, body: await res.text() };
}

const UNAUTHORIZED = '{"ok":false,"error":"PLATFORM_UNAUTHORIZED"}\n';

describe("platform API path variants", () => {
  // Spellings the router (Hono: `%XX` of unreserved characters decoded, not strict about a
  // trailing slash) or the URL parser (dot segments) makes the platform API's own paths: they
  // are the platform API, so the token is required exactly as on the canonical path.
  it.each([
    ["/__brim/platform/", 404],
    ["/__brim/platform/config/", 200],
    ["/%5F%5Fbrim/platform/config", 200],
    ["/%5f%5fbrim/%70latform/config", 200],
    ["/__brim/./platform/config", 200],
    ["/x/../__brim/platform/config", 200],
    ["/__brim/platform/config;x", 404],
  ])("%s is the platform API: 401 without the token on any Host, %i with it", async (path, withToken) => {
    const { brim, tenantHost } = await setup();
    for (const host of [tenantHost, "unknown.test"]) {
      const refused = await answer(brim, path, host);
      expect(refused, `${host}${path}`).toEqual({ status: 401, body: UNAUTHORIZED });
      expect((await answer(brim, path, host, { token: "wrong" })).status).toBe(401);
      expect((await answer(brim, path, host, { token: PLATFORM_TOKEN })).status).toBe(withToken);
    }
  });

  it("HEAD and OPTIONS without the token are 401, and reveal nothing", async () => {
    const { brim, tenantHost } = await setup();
    for (const method of ["HEAD", "OPTIONS"]) {
      for (const path of ["/__brim/platform/config", "/__brim/platform/config/status", "/__brim/platform/"]) {
        const res = await brim.fetch(path, { host: tenantHost, method });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.headers.get("www-authenticate")).toBe('Bearer realm="brim platform"');
        expect(res.headers.get("cache-control")).toBe("no-store");
      }
    }
  });

  it("spellings outside the platform API never reach the config: the tenant admin API's 404, an ambiguity 400, or 421", async () => {
    const { brim, tenantHost } = await setup();
    const cases: [string, number, number][] = [
      // A ";" inside the mount segment is not the platform API: the tenant admin API (by Host) has no such endpoint.
      ["/__brim/platform;x/config", 404, 421],
      // "//" and "%2F" are refused as ambiguous before routing (src/http/path.ts); an unknown Host is 421 first.
      ["//__brim/platform/config", 400, 421],
      ["/__brim%2Fplatform/config", 400, 421],
    ];
    for (const [path, onTenant, onUnknown] of cases) {
      for (const token of [undefined, PLATFORM_TOKEN]) {
        const init = token ? { token } : {};
        const tenant = await answer(brim, path, tenantHost, init);
        expect(tenant.status, path).toBe(onTenant);
        expect(tenant.body).not.toContain('"version"');
        expect((await answer(brim, path, "unknown.test", init)).status, path).toBe(onUnknown);
      }
    }
  });

  it("/__BRIM (another path: routing is case-sensitive, as RFC 3986 §6.2.2.1 makes paths) is a tenant path, proxied to its origin", async () => {
    const { brim, tenantHost } = await setup();
    const res = await answer(brim, "/__BRIM/platform/config", tenantHost, { token: PLATFORM_TOKEN });
    // The test origin's own answer for an unknown `/__` path: the request went to the origin, not to the platform API.
    expect(res).toEqual({ status: 404, body: '{"error":"unknown control path /__BRIM/platform/config"}' });
    expect((await answer(brim, "/__BRIM/platform/config", "unknown.test")).status).toBe(421);
  });
});
