/** The auth parts of the tenants file: defaults, normalization, and every load-time error. */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/tenant/load";

type Json = Record<string, unknown>;

const JWK = { kty: "EC", crv: "P-256", x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" };
const AUTH = { issuer: "https://idp.test", audience: "api", jwksUrl: "https://idp.test/jwks.json" };

function config(auth: unknown, routes: Json[] = [{ path: "/*", auth: "required" }], extra: Json = {}): Json {
  return {
    tenants: [{ id: "acme", hosts: ["acme.test"], origin: "http://o.test", routes, ...(auth === undefined ? {} : { auth }), ...extra }],
  };
}

function problemsOf(raw: unknown): readonly string[] {
  try {
    loadConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("auth config: normalization", () => {
  it("fills every default", () => {
    const tenant = loadConfig(config(AUTH)).tenants[0]!;
    expect(tenant.auth).toStrictEqual({
      issuer: "https://idp.test",
      audience: ["api"],
      keys: { kind: "jwks", url: "https://idp.test/jwks.json", maxAgeSeconds: 600, cooldownSeconds: 30 },
      algorithms: ["RS256", "ES256", "EdDSA"],
      clockSkewSeconds: 30,
      typ: null,
      maxTokenLifetimeSeconds: null,
      maxTokenBytes: 8192,
      token: { header: "authorization", cookie: null },
      revocation: null,
      forward: { claims: [], stripAuthorization: false },
    });
    expect(tenant.routes[0]!.auth).toStrictEqual({ mode: "required", scopes: [] });
    expect(tenant.admin).toBeUndefined();
  });

  it("normalizes the issue's example, secrets, static keys, admin, scopes and claims keys", () => {
    const auth = {
      ...AUTH,
      audience: ["acme-api"],
      algorithms: ["ES256", "RS256", "EdDSA"],
      token: { header: "Authorization", cookie: "session" },
      revocation: { url: "https://idp.test/revocations", refreshSeconds: 30, maxStaleSeconds: 300, onStale: "deny" },
      forward: { claims: { sub: "X-User-Id", org: "x-org-id" }, stripAuthorization: true },
    };
    const routes = [
      { path: "/admin/*", auth: "required", scopes: ["admin"] },
      { path: "/org/*", auth: "optional", cache: { key: { claims: ["org", "sub"] } } },
      { path: "/*" },
    ];
    const tenant = loadConfig(config(auth, routes, { admin: { tokenEnv: "ACME_ADMIN_TOKEN" } })).tenants[0]!;
    expect(tenant.auth?.token).toStrictEqual({ header: "authorization", cookie: "session" });
    expect(tenant.auth?.revocation).toStrictEqual({
      url: "https://idp.test/revocations",
      refreshSeconds: 30,
      maxStaleSeconds: 300,
      onStale: "deny",
    });
    expect(tenant.auth?.forward.claims).toStrictEqual([
      { claim: "sub", header: "x-user-id" },
      { claim: "org", header: "x-org-id" },
    ]);
    expect(tenant.admin).toStrictEqual({ tokenEnv: "ACME_ADMIN_TOKEN" });
    expect(tenant.routes.map((r) => r.auth)).toStrictEqual([
      { mode: "required", scopes: ["admin"] },
      { mode: "optional", scopes: [] },
      undefined,
    ]);
    expect(tenant.routes[1]!.cache?.key.claims).toStrictEqual(["org", "sub"]);
    expect("claims" in tenant.routes[2]!.cache!.key).toBe(false);

    const hs = loadConfig(config({ issuer: "i", audience: "a", secretEnv: "ACME_JWT_SECRET" })).tenants[0]!.auth!;
    expect(hs.keys).toStrictEqual({ kind: "secret", env: "ACME_JWT_SECRET" });
    expect(hs.algorithms).toStrictEqual(["HS256"]);
    const inline = loadConfig(config({ issuer: "i", audience: "a", keys: [JWK] })).tenants[0]!.auth!;
    expect(inline.keys).toStrictEqual({ kind: "static", keys: [JWK] });
  });

  it("keys and revocations over http only on loopback hosts; claims keys that cover every forwarded claim", () => {
    for (const host of ["127.0.0.1:9000", "127.8.0.1", "localhost:8080", "[::1]:9000"]) {
      const auth = loadConfig(config({ ...AUTH, jwksUrl: `http://${host}/jwks`, revocation: { url: `http://${host}/revoked` } }))
        .tenants[0]!.auth!;
      expect(auth.keys.kind === "jwks" && auth.keys.url).toBe(`http://${host}/jwks`);
    }
    const forward = { claims: { sub: "x-user-id", org: "x-org-id" } };
    const routes = [{ path: "/*", auth: "required", cache: { key: { claims: ["sub", "org"] } } }];
    expect(loadConfig(config({ ...AUTH, forward, maxTokenLifetimeSeconds: 3600 }, routes)).tenants[0]!.auth!.maxTokenLifetimeSeconds).toBe(
      3600,
    );
  });

  it("a tenant without auth normalizes exactly as before (no new fields)", () => {
    const tenant = loadConfig(config(undefined, [{ path: "/*" }])).tenants[0]!;
    expect("auth" in tenant || "admin" in tenant).toBe(false);
    expect("auth" in tenant.routes[0]!).toBe(false);
    expect("claims" in tenant.routes[0]!.cache!.key).toBe(false);
  });
});

const A = "tenants[0].auth";
const R = "tenants[0].routes[0]";

/** [name, raw config, exact problem lines]. */
const INVALID: [string, unknown, string[]][] = [
  ["no key source", config({ issuer: "i", audience: "a" }), [`${A}: no key source: give one of "jwksUrl", "keys" or "secretEnv"`]],
  ["two key sources", config({ ...AUTH, keys: [JWK] }), [`${A}: give only one key source, got jwksUrl and keys`]],
  [
    "none in algorithms",
    config({ ...AUTH, algorithms: ["RS256", "none"] }),
    [`${A}.algorithms[1]: "none" is never accepted: unsigned tokens prove nothing`],
  ],
  [
    "HS256 with a JWKS",
    config({ ...AUTH, algorithms: ["HS256"] }),
    [`${A}.algorithms[0]: "HS256" is an HMAC algorithm: it needs "secretEnv", not a JWKS or public keys`],
  ],
  [
    "HS256 with inline keys",
    config({ issuer: "i", audience: "a", keys: [JWK], algorithms: ["ES256", "HS512"] }),
    [`${A}.algorithms[1]: "HS512" is an HMAC algorithm: it needs "secretEnv", not a JWKS or public keys`],
  ],
  [
    "RS256 with a secret",
    config({ issuer: "i", audience: "a", secretEnv: "S", algorithms: ["RS256"] }),
    [`${A}.algorithms[0]: "RS256" needs public keys ("jwksUrl" or "keys"), not an HMAC secret`],
  ],
  [
    "unknown algorithm",
    config({ ...AUTH, algorithms: ["RS1"] }),
    [
      `${A}.algorithms[0]: unknown algorithm "RS1"; expected one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519, HS256, HS384, HS512`,
    ],
  ],
  ["unknown field in auth", config({ ...AUTH, isuer: "x" }), [`${A}.isuer: unknown field`]],
  [
    "unknown field in revocation",
    config({ ...AUTH, revocation: { url: "https://r.test", refresh: 5 } }),
    [`${A}.revocation.refresh: unknown field`],
  ],
  ["unknown field in forward", config({ ...AUTH, forward: { strip: true } }), [`${A}.forward.strip: unknown field`]],
  ["missing issuer", config({ audience: "a", jwksUrl: "https://i.test/j" }), [`${A}.issuer: missing required field`]],
  [
    "jwksUrl not http(s)",
    config({ ...AUTH, jwksUrl: "file:///etc/keys" }),
    [`${A}.jwksUrl: expected an http(s) URL, got "file:///etc/keys"`],
  ],
  [
    "inline HMAC key",
    config({ issuer: "i", audience: "a", keys: [{ kty: "oct", k: "c2VjcmV0" }] }),
    [`${A}.keys[0].kty: HMAC keys must not be inline: put the secret in a Worker secret and name it in "secretEnv"`],
  ],
  [
    "inline private key",
    config({ issuer: "i", audience: "a", keys: [{ ...JWK, d: "secret" }] }),
    [`${A}.keys[0].d: a private key member must never be in config; give the public key only`],
  ],
  [
    "secretEnv not a name",
    config({ issuer: "i", audience: "a", secretEnv: "my secret" }),
    [`${A}.secretEnv: expected a Worker secret name (letters, digits and "_"), got "my secret"`],
  ],
  [
    "maxStale below refresh",
    config({ ...AUTH, revocation: { url: "https://r.test", refreshSeconds: 60, maxStaleSeconds: 30 } }),
    [`${A}.revocation.maxStaleSeconds: maxStaleSeconds (30) must be at least refreshSeconds (60)`],
  ],
  [
    "bad onStale",
    config({ ...AUTH, revocation: { url: "https://r.test", onStale: "maybe" } }),
    [`${A}.revocation.onStale: expected "deny" or "allow", got "maybe"`],
  ],
  [
    "claim forwarded into Authorization",
    config({ ...AUTH, forward: { claims: { sub: "Authorization" } } }),
    [`${A}.forward.claims.sub: header "Authorization" is reserved: a claim cannot be forwarded in it`],
  ],
  ["route auth without tenant auth", config(undefined), [`${R}.auth: auth "required" needs the tenant's "auth" block`]],
  ["bad route auth", config(AUTH, [{ path: "/*", auth: "yes" }]), [`${R}.auth: expected "required", "optional" or "none", got "yes"`]],
  [
    "scopes on an optional route",
    config(AUTH, [{ path: "/*", auth: "optional", scopes: ["a"] }]),
    [`${R}.scopes: scopes need "auth": "required"`],
  ],
  [
    "claims key without route auth",
    config(AUTH, [{ path: "/*", cache: { key: { claims: ["org"] } } }]),
    [`${R}.cache.key.claims: claims in the cache key need a verified token: set "auth" to "required" or "optional"`],
  ],
  ["admin without tokenEnv", config(AUTH, undefined, { admin: {} }), ["tenants[0].admin.tokenEnv: missing required field"]],
  // Issue #11 §2: Alice's response served to Bob.
  [
    "a forwarded claim left out of the claims key",
    config({ ...AUTH, forward: { claims: { sub: "x-user-id", org: "x-org-id" } } }, [
      { path: "/*", auth: "required", cache: { key: { claims: ["org"] } } },
    ]),
    [
      `${R}.cache.key.claims: every claim forwarded to the origin must be in the cache key, or one user's response is served to another: "sub" (as "x-user-id") is forwarded but not keyed; add it to "claims" or stop forwarding it`,
    ],
  ],
  [
    "two forwarded claims left out of the claims key",
    config({ ...AUTH, forward: { claims: { sub: "x-user-id", org: "x-org-id", tier: "x-tier" } } }, [
      { path: "/*", auth: "optional", cache: { key: { claims: ["org"] } } },
    ]),
    [
      `${R}.cache.key.claims: every claim forwarded to the origin must be in the cache key, or one user's response is served to another: "sub" (as "x-user-id"), "tier" (as "x-tier") are forwarded but not keyed; add them to "claims" or stop forwarding them`,
    ],
  ],
  [
    "jwksUrl over plain http",
    config({ ...AUTH, jwksUrl: "http://idp.test/jwks.json" }),
    [`${A}.jwksUrl: expected an https:// URL (http:// only for loopback hosts), got "http://idp.test/jwks.json"`],
  ],
  [
    "jwksUrl on a host that only looks like loopback",
    config({ ...AUTH, jwksUrl: "http://127.0.0.1.evil.test/jwks" }),
    [`${A}.jwksUrl: expected an https:// URL (http:// only for loopback hosts), got "http://127.0.0.1.evil.test/jwks"`],
  ],
  [
    "revocation url over plain http",
    config({ ...AUTH, revocation: { url: "http://idp.test/revoked" } }),
    [`${A}.revocation.url: expected an https:// URL (http:// only for loopback hosts), got "http://idp.test/revoked"`],
  ],
  [
    "maxTokenLifetimeSeconds of 0",
    config({ ...AUTH, maxTokenLifetimeSeconds: 0 }),
    [`${A}.maxTokenLifetimeSeconds: expected an integer from 1 to 31536000, got 0`],
  ],
];

describe("auth config: every problem fails at load with its path", () => {
  it.each(INVALID)("%s", (_name, raw, lines) => {
    expect(problemsOf(raw)).toStrictEqual(lines);
  });
});
