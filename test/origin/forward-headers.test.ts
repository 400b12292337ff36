/**
 * The pure parts of "no unkeyed input shapes a shared response": which client headers a
 * shared fetch forwards (src/origin/forward-headers.ts, `buildOriginRequest`), which requests
 * skip the cache (src/cache/bypass.ts), and that coalesced waiters tell absent from empty.
 */
import { describe, expect, it } from "vitest";
import { bypassStatus } from "../../src/pipeline/bypass";
import { answersWaiter } from "../../src/coalesce/share";
import { SHARED_FETCH_REQUEST_HEADERS } from "../../src/constants";
import { sharedRequestHeaders } from "../../src/origin/forward-headers";
import { buildOriginRequest } from "../../src/origin/request";
import { loadConfig } from "../../src/tenant/load";
import type { CachePolicy } from "../../src/tenant/types";

function tenantWith(cache: unknown, auth?: unknown) {
  const config = loadConfig({
    tenants: [{ id: "acme", hosts: ["acme.test"], origin: "http://o.test", routes: [{ path: "/*", cache }], ...(auth ? { auth } : {}) }],
  });
  const tenant = config.tenants[0]!;
  return { tenant, route: tenant.routes[0]! };
}

const AUTH = { issuer: "https://idp.test", audience: "acme", secretEnv: "SECRET", forward: { claims: { sub: "x-user-id" } } };

describe("sharedRequestHeaders", () => {
  it("is the defaults, the key headers, the unkeyed ones the route names and the tenant's claim headers", () => {
    const { tenant, route } = tenantWith({ key: { headers: ["X-Device"] }, forwardUnkeyed: { "X-Request-Id": "only logged" } }, AUTH);
    const names = sharedRequestHeaders(tenant, route);
    expect([...names].sort()).toStrictEqual([...SHARED_FETCH_REQUEST_HEADERS, "x-device", "x-request-id", "x-user-id"].sort());
    expect(sharedRequestHeaders(tenant, route)).toBe(names);
  });

  it("is only the defaults for a plain route", () => {
    const { tenant, route } = tenantWith({});
    expect([...sharedRequestHeaders(tenant, route)]).toStrictEqual([...SHARED_FETCH_REQUEST_HEADERS]);
  });
});

describe("buildOriginRequest with a forward set", () => {
  const CLIENT = {
    accept: "text/html",
    "accept-language": "de",
    "x-device": "mobile",
    "x-evil": "1",
    "user-agent": "UA",
    cookie: "a=1",
    "if-none-match": '"client"',
    "cache-control": "no-cache",
    "x-original-url": "/admin",
    "x-forwarded-host": "evil.example",
    host: "acme.test",
  };

  it("keeps only the allowed client headers, then adds Brim's own", () => {
    const { route } = tenantWith({});
    const request = new Request("https://acme.test/p?a=1", { headers: CLIENT });
    const out = buildOriginRequest(request, route, {
      search: "?a=1",
      forCache: true,
      method: "GET",
      forward: new Set(["accept", "accept-language", "x-device", "if-none-match"]),
      validators: { etag: '"brim"', lastModified: null },
    });
    expect(Object.fromEntries(out.headers)).toStrictEqual({
      accept: "text/html",
      "accept-language": "de",
      "x-device": "mobile",
      "if-none-match": '"brim"',
      "x-forwarded-proto": "https",
      "x-forwarded-host": "acme.test",
    });
  });

  it("without one (pass-through), keeps every end-to-end header but the overrides", () => {
    const { route } = tenantWith(false);
    const out = buildOriginRequest(new Request("https://acme.test/p", { headers: CLIENT }), route, { search: "", forCache: false });
    const names = [...out.headers.keys()];
    for (const name of ["accept", "x-device", "x-evil", "user-agent", "cookie", "if-none-match", "cache-control"])
      expect(names, name).toContain(name);
    expect(names).not.toContain("x-original-url");
    expect(out.headers.get("x-forwarded-host")).toBe("acme.test");
  });
});

describe("bypassStatus", () => {
  const policy = (cookies: "bypass" | "ignore"): CachePolicy => ({ ...tenantWith({ cookies }).route.cache! });
  const request = (method: string, headers: Record<string, string> = {}) => new Request("https://acme.test/", { method, headers });

  it.each([
    ["uncached route", request("GET"), null, undefined, { fwd: "bypass" }],
    ["POST", request("POST"), policy("bypass"), undefined, { fwd: "method" }],
    ["credentials", request("GET"), policy("bypass"), "bypass" as const, { fwd: "bypass", detail: "credentials" }],
    // Range is answered from the cache (src/pipeline/range.ts), no longer a bypass.
    ["Range", request("GET", { range: "bytes=0-1" }), policy("bypass"), undefined, null],
    ["Cookie, default", request("GET", { cookie: "a=1" }), policy("bypass"), undefined, { fwd: "bypass", detail: "cookie" }],
    ["Cookie on HEAD", request("HEAD", { cookie: "a=1" }), policy("bypass"), undefined, { fwd: "bypass", detail: "cookie" }],
    ["Cookie, ignored", request("GET", { cookie: "a=1" }), policy("ignore"), undefined, null],
    ["plain GET", request("GET"), policy("bypass"), undefined, null],
    ["POST with a cookie is a method bypass", request("POST", { cookie: "a=1" }), policy("bypass"), undefined, { fwd: "method" }],
  ])("%s", (_, req, cache, auth, expected) => {
    expect(bypassStatus(req, cache, auth)).toStrictEqual(expected);
  });
});

describe("coalesced waiters compare Vary values with absent ≠ empty (RFC 9111 §4.1)", () => {
  const share = { shareable: true as const, vary: ["accept-language"], authOk: false };
  it.each([
    [{}, {}, true],
    [{ "accept-language": "" }, { "accept-language": "" }, true],
    [{}, { "accept-language": "" }, false],
    [{ "accept-language": "" }, {}, false],
    [{ "accept-language": "de, en" }, { "accept-language": "de,en" }, true],
  ])("leader %j, waiter %j → %s", (leader, waiter, expected) => {
    expect(answersWaiter(share, new Headers(leader), new Headers(waiter))).toBe(expected);
  });
});
