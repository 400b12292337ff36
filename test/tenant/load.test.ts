import { DEFAULT_COMPRESSIBLE_TYPES } from "../../src/compress/policy";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfigText } from "../../src/tenant/load";
import type { BrimConfig, CachePolicy, CompressionPolicy } from "../../src/tenant/types";

/** The example from the config documentation. */
const example = {
  $schema: "./schema/tenants.schema.json",
  tenants: [
    {
      id: "acme",
      hosts: ["acme.localhost:8787", "api.acme.test"],
      origin: "http://127.0.0.1:9000",
      preserveHost: false,
      routes: [
        { path: "/api/catalog/*", cache: { ttl: 60, staleWhileRevalidate: 600, staleIfError: 86400 } },
        { path: "/api/search", cache: { key: { query: ["q", "page"], headers: ["Accept-Language"] } } },
        { path: "/admin/*", cache: false },
        {
          path: "/users/:id",
          origin: "https://users.internal.test",
          timeoutMs: 5000,
          cache: { ttl: 10, override: true, ignoreRequestDirectives: true, ttlJitter: 0.1, maxObjectBytes: 1048576 },
        },
        { path: "/*", timeoutMs: 30000 },
      ],
    },
  ],
};

const DEFAULT_CACHE: CachePolicy = {
  ttlSeconds: null,
  staleWhileRevalidateSeconds: null,
  staleIfErrorSeconds: null,
  override: false,
  key: { query: { mode: "all" }, headers: [] },
  ignoreRequestDirectives: false,
  ttlJitter: 0,
  maxObjectBytes: 104857600,
  coalesce: { waitMs: 31000, locationHint: null },
  cookies: "bypass",
  forwardUnkeyed: [],
};

const ORIGIN = "http://127.0.0.1:9000";

const DEFAULT_COMPRESSION: CompressionPolicy = { encodings: ["br", "gzip"], minBytes: 1024, types: DEFAULT_COMPRESSIBLE_TYPES };

const expectedExample: BrimConfig = {
  tenants: [
    {
      id: "acme",
      hosts: ["acme.localhost:8787", "api.acme.test"],
      origin: ORIGIN,
      routes: [
        {
          path: "/api/catalog/*",
          index: 0,
          origin: ORIGIN,
          timeoutMs: 30000,
          bodyIdleTimeoutMs: 30000,
          preserveHost: false,
          compression: DEFAULT_COMPRESSION,
          cache: { ...DEFAULT_CACHE, ttlSeconds: 60, staleWhileRevalidateSeconds: 600, staleIfErrorSeconds: 86400 },
        },
        {
          path: "/api/search",
          index: 1,
          origin: ORIGIN,
          timeoutMs: 30000,
          bodyIdleTimeoutMs: 30000,
          preserveHost: false,
          compression: DEFAULT_COMPRESSION,
          cache: { ...DEFAULT_CACHE, key: { query: { mode: "allow", names: ["q", "page"] }, headers: ["accept-language"] } },
        },
        {
          path: "/admin/*",
          index: 2,
          origin: ORIGIN,
          timeoutMs: 30000,
          bodyIdleTimeoutMs: 30000,
          preserveHost: false,
          compression: DEFAULT_COMPRESSION,
          cache: null,
        },
        {
          path: "/users/:id",
          index: 3,
          origin: "https://users.internal.test",
          timeoutMs: 5000,
          bodyIdleTimeoutMs: 30000,
          preserveHost: false,
          compression: DEFAULT_COMPRESSION,
          cache: {
            ...DEFAULT_CACHE,
            ttlSeconds: 10,
            override: true,
            ignoreRequestDirectives: true,
            ttlJitter: 0.1,
            maxObjectBytes: 1048576,
            coalesce: { waitMs: 6000, locationHint: null },
          },
        },
        {
          path: "/*",
          index: 4,
          origin: ORIGIN,
          timeoutMs: 30000,
          bodyIdleTimeoutMs: 30000,
          preserveHost: false,
          compression: DEFAULT_COMPRESSION,
          cache: DEFAULT_CACHE,
        },
      ],
    },
  ],
};

type Json = Record<string, unknown>;

/** A minimal valid tenant, with `overrides` merged in. */
function tenant(overrides: Json = {}): Json {
  return { id: "acme", hosts: ["acme.test"], origin: "http://o.test", routes: [{ path: "/*" }], ...overrides };
}

/** A one-tenant config whose only route is `route` (path "/*" unless given). */
function withRoute(route: Json): Json {
  return { tenants: [tenant({ routes: [{ path: "/*", ...route }] })] };
}

function withCache(cache: unknown): Json {
  return withRoute({ cache });
}

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig: the documented example", () => {
  it("normalizes to the fully defaulted shape", () => {
    expect(loadConfig(example)).toStrictEqual(expectedExample);
  });

  it("returns a deep-frozen object", () => {
    const config = loadConfig(example);
    const route = config.tenants[0]!.routes[1]!;
    for (const value of [config, config.tenants, config.tenants[0], config.tenants[0]!.hosts, route, route.cache]) {
      expect(Object.isFrozen(value)).toBe(true);
    }
    expect(Object.isFrozen(route.cache!.key.query)).toBe(true);
    expect(Object.isFrozen(route.cache!.key.headers)).toBe(true);
    expect(() => (config.tenants as unknown[]).push(1)).toThrow(TypeError);
  });

  it("does not modify its input", () => {
    const input = structuredClone(example);
    loadConfig(input);
    expect(input).toStrictEqual(example);
  });

  it("parses the same config from text", () => {
    expect(parseConfigText(JSON.stringify(example, null, 2))).toStrictEqual(expectedExample);
    expect(parseConfigText(`\uFEFF${JSON.stringify(example)}`)).toStrictEqual(expectedExample);
  });
});

describe("loadConfig: normalization", () => {
  it("lower-cases hosts and key headers, and trims the origin's trailing slash", () => {
    const config = loadConfig({
      tenants: [
        tenant({
          hosts: ["API.Acme.TEST:8443", "[::1]:8787", "192.0.2.1"],
          origin: "HTTPS://Origin.Test:443/base/",
          routes: [{ path: "/*", cache: { key: { headers: ["X-Tenant-Plan"] } } }],
        }),
      ],
    });
    const t = config.tenants[0]!;
    expect(t.hosts).toStrictEqual(["api.acme.test:8443", "[::1]:8787", "192.0.2.1"]);
    expect(t.origin).toBe("https://origin.test/base");
    expect(t.routes[0]!.origin).toBe("https://origin.test/base");
    expect(t.routes[0]!.cache!.key.headers).toStrictEqual(["x-tenant-plan"]);
  });

  it("inherits preserveHost from the tenant unless the route sets it", () => {
    const config = loadConfig({
      tenants: [tenant({ preserveHost: true, routes: [{ path: "/a" }, { path: "/b", preserveHost: false }] })],
    });
    expect(config.tenants[0]!.routes.map((r) => r.preserveHost)).toStrictEqual([true, false]);
  });

  it('maps query "none" and accepts "*" alone, parameter regexes and a root path', () => {
    const config = loadConfig({
      tenants: [
        tenant({
          routes: [
            { path: "/", cache: { key: { query: "none" } } },
            { path: "/files/:name{[a-z]+\\.png}" },
            { path: "/v/:major{\\d{1,3}}/items/:id/*" },
            { path: "*" },
          ],
        }),
      ],
    });
    const routes = config.tenants[0]!.routes;
    expect(routes[0]!.cache!.key.query).toStrictEqual({ mode: "none" });
    expect(routes.map((r) => r.index)).toStrictEqual([0, 1, 2, 3]);
  });

  it("ignores a missing $schema and accepts override with only a stale window", () => {
    const config = loadConfig(withCache({ override: true, staleIfError: 60 }));
    expect(config.tenants[0]!.routes[0]!.cache).toStrictEqual({ ...DEFAULT_CACHE, override: true, staleIfErrorSeconds: 60 });
  });
});

const R = "tenants[0].routes[0]";
const C = `${R}.cache`;
const T0 = "tenants[0]";

/** [name, raw config, exact problem lines in order]. */
const invalid: readonly [string, unknown, readonly string[]][] = [
  ["negative ttl", withCache({ ttl: -5 }), [`${C}.ttl: expected a non-negative integer, got -5`]],
  ["fractional ttl", withCache({ ttl: 1.5 }), [`${C}.ttl: expected a non-negative integer, got 1.5`]],
  ["ttl as a string", withCache({ ttl: "60" }), [`${C}.ttl: expected a non-negative integer, got "60"`]],
  ["negative stale-if-error", withCache({ staleIfError: -1 }), [`${C}.staleIfError: expected a non-negative integer, got -1`]],
  ["unknown field at the root", { ...withRoute({}), tenant: [] }, ["tenant: unknown field"]],
  ["unknown field in a tenant", { tenants: [tenant({ prserveHost: true })] }, [`${T0}.prserveHost: unknown field`]],
  ["unknown field in a route", withRoute({ cahce: false }), [`${R}.cahce: unknown field`]],
  ["unknown field in a cache", withCache({ tll: 5 }), [`${C}.tll: unknown field`]],
  [
    "unknown fields in a cache key",
    withCache({ key: { header: [], "x y": 1 } }),
    [`${C}.key.header: unknown field`, `${C}.key["x y"]: unknown field`],
  ],
  [
    "a host claimed by two tenants",
    { tenants: [tenant({ hosts: ["api.acme.test"] }), tenant({ id: "beta", hosts: ["API.acme.test"] })] },
    ['tenants[1].hosts[0]: host "api.acme.test" is already claimed by tenant "acme", so tenant "beta" cannot claim it'],
  ],
  [
    "a duplicate tenant id",
    { tenants: [tenant(), tenant({ hosts: ["other.test"] })] },
    ['tenants[1].id: duplicate tenant id "acme" (also tenants[0])'],
  ],
  [
    "a duplicate host within a tenant",
    { tenants: [tenant({ hosts: ["a.test", "A.TEST"] })] },
    [`${T0}.hosts[1]: duplicate host "A.TEST" (also hosts[0])`],
  ],
  ["an ftp origin", { tenants: [tenant({ origin: "ftp://x" })] }, [`${T0}.origin: expected an http(s) URL, got "ftp://x"`]],
  ["a relative origin", { tenants: [tenant({ origin: "o.test" })] }, [`${T0}.origin: expected an http(s) URL, got "o.test"`]],
  [
    "an origin with a query",
    { tenants: [tenant({ origin: "http://o.test/?a=1" })] },
    [`${T0}.origin: an origin URL must not have a query, got "http://o.test/?a=1"`],
  ],
  [
    "an origin with a fragment",
    { tenants: [tenant({ origin: "http://o.test#x" })] },
    [`${T0}.origin: an origin URL must not have a fragment, got "http://o.test#x"`],
  ],
  [
    "an origin with credentials",
    { tenants: [tenant({ origin: "https://user:pw@o.test" })] },
    [`${T0}.origin: an origin URL must not contain credentials; send them from the origin side instead`],
  ],
  ["a bad route origin", withRoute({ origin: "ws://o.test" }), [`${R}.origin: expected an http(s) URL, got "ws://o.test"`]],
  ["a path without a leading slash", withRoute({ path: "api/*" }), [`${R}.path: a route path must start with "/", got "api/*"`]],
  [
    "a wildcard mid-path",
    withRoute({ path: "/a/*/b" }),
    [`${R}.path: "*" is allowed only as the last segment ("/*") or alone, got "/a/*/b"`],
  ],
  ["a wildcard suffix", withRoute({ path: "/a*" }), [`${R}.path: "*" is allowed only as the last segment ("/*") or alone, got "/a*"`]],
  [
    "a bad parameter name",
    withRoute({ path: "/u/:user-id" }),
    [`${R}.path: a parameter segment must be ":name" or ":name{regex}", got "/u/:user-id"`],
  ],
  [
    "a query in the path",
    withRoute({ path: "/search?q" }),
    [`${R}.path: a path segment must not contain whitespace, "?", "#", "{" or "}", got "/search?q"`],
  ],
  [
    "an invalid parameter regex",
    withRoute({ path: "/x/:id{[}" }),
    [`${R}.path: the router rejects "/x/:id{[}" (invalid parameter regex or repeated parameter name)`],
  ],
  [
    "a repeated parameter name",
    withRoute({ path: "/:a/:a" }),
    [`${R}.path: the router rejects "/:a/:a" (invalid parameter regex or repeated parameter name)`],
  ],
  ["a missing path", withRoute({ path: undefined }), [`${R}.path: missing required field`]],
  [
    "a header name with a space",
    withCache({ key: { headers: ["Accept Language"] } }),
    [`${C}.key.headers[0]: expected a header name (RFC 9110 token characters), got "Accept Language"`],
  ],
  [
    "authorization in the key",
    withCache({ key: { headers: ["Accept", "Authorization"] } }),
    [`${C}.key.headers[1]: header "Authorization" must not be part of a cache key: it would put raw credentials into the key`],
  ],
  [
    "cookie in the key",
    withCache({ key: { headers: ["cookie"] } }),
    [`${C}.key.headers[0]: header "cookie" must not be part of a cache key: it would put raw credentials into the key`],
  ],
  [
    "a repeated key header",
    withCache({ key: { headers: ["X-A", "x-a"] } }),
    [`${C}.key.headers[1]: duplicate header "x-a" (also headers[0])`],
  ],
  [
    "an empty query list",
    withCache({ key: { query: [] } }),
    [`${C}.key.query: expected at least one name; use "none" to leave the query out of the key`],
  ],
  [
    "an unknown query mode",
    withCache({ key: { query: "some" } }),
    [`${C}.key.query: expected "all", "none" or a list of query parameter names, got "some"`],
  ],
  ["a non-string query name", withCache({ key: { query: ["q", 5] } }), [`${C}.key.query[1]: expected a query parameter name, got 5`]],
  ["empty routes", { tenants: [tenant({ routes: [] })] }, [`${T0}.routes: expected at least one route`]],
  ["empty hosts", { tenants: [tenant({ hosts: [] })] }, [`${T0}.hosts: expected at least one host`]],
  [
    "a port out of range",
    { tenants: [tenant({ hosts: ["acme.test:70000"] })] },
    [`${T0}.hosts[0]: expected a port from 1 to 65535 after ":", got "acme.test:70000"`],
  ],
  [
    "port 0",
    { tenants: [tenant({ hosts: ["acme.test:0"] })] },
    [`${T0}.hosts[0]: expected a port from 1 to 65535 after ":", got "acme.test:0"`],
  ],
  [
    "a URL as a host",
    { tenants: [tenant({ hosts: ["https://acme.test"] })] },
    [`${T0}.hosts[0]: expected a host, not a URL, got "https://acme.test"`],
  ],
  [
    "a host with bad characters",
    { tenants: [tenant({ hosts: ["acme_test.com"] })] },
    [`${T0}.hosts[0]: expected host or host:port (letters, digits, "-" and "." only), got "acme_test.com"`],
  ],
  [
    "a bad IPv4 host",
    { tenants: [tenant({ hosts: ["10.0.0.256"] })] },
    [`${T0}.hosts[0]: expected an IPv4 address like "192.0.2.1", got "10.0.0.256"`],
  ],
  [
    "a bad IPv6 host",
    { tenants: [tenant({ hosts: ["[fe80::zz]:80"] })] },
    [`${T0}.hosts[0]: expected a bracketed IPv6 address, got "[fe80::zz]:80"`],
  ],
  ["a host that is not a string", { tenants: [tenant({ hosts: ["a.test", 5] })] }, [`${T0}.hosts[1]: expected a host, got 5`]],
  [
    "a header that is not a string",
    withCache({ key: { headers: ["x-a", null] } }),
    [`${C}.key.headers[1]: expected a header name, got null`],
  ],
  ["timeoutMs 0", withRoute({ timeoutMs: 0 }), [`${R}.timeoutMs: expected an integer from 1 to 600000, got 0`]],
  ["timeoutMs too large", withRoute({ timeoutMs: 600001 }), [`${R}.timeoutMs: expected an integer from 1 to 600000, got 600001`]],
  ["bodyIdleTimeoutMs 0", withRoute({ bodyIdleTimeoutMs: 0 }), [`${R}.bodyIdleTimeoutMs: expected an integer from 1 to 600000, got 0`]],
  [
    "override without values",
    withCache({ override: true }),
    [`${C}.override: override is true but none of ttl, staleWhileRevalidate, staleIfError is set: nothing to override with`],
  ],
  ["ttlJitter above 0.5", withCache({ ttlJitter: 0.6 }), [`${C}.ttlJitter: expected a number from 0 to 0.5, got 0.6`]],
  ["negative ttlJitter", withCache({ ttlJitter: -0.1 }), [`${C}.ttlJitter: expected a number from 0 to 0.5, got -0.1`]],
  ["maxObjectBytes 0", withCache({ maxObjectBytes: 0 }), [`${C}.maxObjectBytes: expected a positive integer (bytes), got 0`]],
  // zstd is a produced coding since it comes from WebAssembly (src/compress/zstd.ts); a coding
  // Brim cannot produce is still refused by name.
  [
    "deflate in compression encodings",
    withRoute({ compression: { encodings: ["br", "deflate"] } }),
    [`${R}.compression.encodings[1]: expected "br", "gzip" or "zstd", got "deflate"`],
  ],
  ["coalesce as a string", withCache({ coalesce: "yes" }), [`${C}.coalesce: expected true, false or an object, got "yes"`]],
  [
    "coalesce waitMs 0",
    withCache({ coalesce: { waitMs: 0 } }),
    [`${C}.coalesce.waitMs: expected an integer from 1 to 600000 (milliseconds), got 0`],
  ],
  ["coalesce unknown field", withCache({ coalesce: { wait: 5 } }), [`${C}.coalesce.wait: unknown field`]],
  ["cache: true", withCache(true), [`${C}: expected false or a cache object, got true`]],
  ["cache as a list", withCache([]), [`${C}: expected false or a cache object, got an array`]],
  ["preserveHost as a string", withRoute({ preserveHost: "yes" }), [`${R}.preserveHost: expected true or false, got "yes"`]],
  [
    "an upper-case tenant id",
    { tenants: [tenant({ id: "Acme" })] },
    [`${T0}.id: expected a tenant id of 1-63 lower-case letters, digits, "-" or "_", starting with a letter or digit, got "Acme"`],
  ],
  ["a tenant that is not an object", { tenants: ["acme"] }, [`${T0}: expected a tenant object, got "acme"`]],
  ["a route that is not an object", { tenants: [tenant({ routes: ["/*"] })] }, [`${T0}.routes[0]: expected a route object, got "/*"`]],
  [
    "a tenant missing every field",
    { tenants: [{}] },
    [
      `${T0}.id: missing required field`,
      `${T0}.hosts: missing required field`,
      `${T0}.origin: missing required field`,
      `${T0}.routes: missing required field`,
    ],
  ],
  ["a number as the root", 42, ['(root): expected an object with a "tenants" list, got 42']],
  ["null as the root", null, ['(root): expected an object with a "tenants" list, got null']],
  ["a list as the root", [], ['(root): expected an object with a "tenants" list, got an array']],
  ["no tenants", {}, ["tenants: missing required field"]],
  ["an empty tenant list", { tenants: [] }, ["tenants: expected at least one tenant"]],
  ["tenants as an object", { tenants: {} }, ["tenants: expected a list of tenants, got an object"]],
  ["a non-string $schema", { ...withRoute({}), $schema: 1 }, ["$schema: expected a string, got 1"]],
  [
    "several problems at once, in document order",
    {
      tenants: [
        tenant({
          origin: "ftp://x",
          routes: [
            { path: "/a", cache: { ttl: -5, cahce: 1 } },
            { path: "/b", timeoutMs: 0 },
          ],
        }),
        tenant({ id: "beta", hosts: ["ACME.test", "bad host"] }),
      ],
    },
    [
      `${T0}.origin: expected an http(s) URL, got "ftp://x"`,
      `${C}.ttl: expected a non-negative integer, got -5`,
      `${C}.cahce: unknown field`,
      `${T0}.routes[1].timeoutMs: expected an integer from 1 to 600000, got 0`,
      'tenants[1].hosts[1]: expected host or host:port (letters, digits, "-" and "." only), got "bad host"',
      'tenants[1].hosts[0]: host "acme.test" is already claimed by tenant "acme", so tenant "beta" cannot claim it',
    ],
  ],
];

describe("loadConfig: invalid configs", () => {
  it.each(invalid)("%s", (_name, raw, lines) => {
    expect(problemsOf(() => loadConfig(raw))).toStrictEqual(lines);
  });

  it("puts a count line first in the message, then one line per problem", () => {
    let caught: unknown;
    try {
      loadConfig(withCache({ ttl: -5, ttlJitter: 1 }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.name).toBe("ConfigError");
    expect(error.code).toBe("ERR_BRIM_CONFIG");
    expect(error.message).toBe(["invalid Brim config (2 problems):", ...error.problems].join("\n"));
    expect(Object.isFrozen(error.problems)).toBe(true);
  });

  it("says 1 problem, singular", () => {
    expect(() => loadConfig(42)).toThrow(/^invalid Brim config \(1 problem\):\n\(root\): /);
  });
});

describe("parseConfigText", () => {
  it("reports unparsable text as one root problem", () => {
    const problems = problemsOf(() => parseConfigText('{"tenants": ['));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^\(root\): invalid JSON: \S/);
  });

  it("reports an empty file as invalid JSON", () => {
    expect(problemsOf(() => parseConfigText(""))[0]).toMatch(/^\(root\): invalid JSON: /);
  });

  it("validates what it parsed", () => {
    expect(problemsOf(() => parseConfigText("[]"))).toStrictEqual(['(root): expected an object with a "tenants" list, got an array']);
  });
});
