/**
 * Token verification end to end: real keys (RS256, ES256, EdDSA from a JWKS on 127.0.0.1,
 * HS256 from a Worker secret), real Brim, real origin. Every rejection is a 401 with an
 * RFC 6750 challenge, `no-store`, and the origin never sees the request.
 */
import { describe, expect, it } from "vitest";
import { testBrim } from "../support/brim";
import { count, requests, uniquePath } from "../support/origin";
import {
  authBlock,
  b64url,
  goodClaims,
  hmacKey,
  hs256WithPublicKey,
  JWT_SECRET_ENV,
  jwksServer,
  sign,
  signingKey,
  signRaw,
  type SigningKey,
} from "../support/jwt";

const FORWARD = { claims: { sub: "x-user-id", org: "x-org-id" } };

async function jwksTenant(keys: SigningKey[], auth: Record<string, unknown> = {}, routes?: Record<string, unknown>[]) {
  const jwks = await jwksServer(keys);
  const brim = testBrim([
    {
      id: "acme",
      auth: authBlock({ jwksUrl: jwks.url }, { forward: FORWARD, ...auth }),
      routes: routes ?? [
        { path: "/open/*", cache: false },
        { path: "/maybe/*", auth: "optional", cache: false },
        { path: "/admin/*", auth: "required", scopes: ["admin"], cache: false },
        { path: "/*", auth: "required", cache: false },
      ],
    },
  ]);
  return { brim, jwks };
}

function expectChallenge(res: Response, error: string | null) {
  expect(res.headers.get("cache-control")).toBe("no-store");
  const challenge = res.headers.get("www-authenticate");
  expect(challenge).toMatch(/^Bearer realm="acme"/);
  if (error === null) expect(challenge).not.toContain("error=");
  else expect(challenge).toContain(`error="${error}"`);
}

describe("valid tokens pass and the origin sees the forwarded claims", () => {
  it.each(["RS256", "ES256", "EdDSA"] as const)("%s from a JWKS", async (alg) => {
    const key = await signingKey(alg);
    const { brim } = await jwksTenant([key]);
    const path = uniquePath();
    const token = await sign(key, goodClaims(brim.clock.now(), { sub: "alice", org: "acme-org" }));
    const res = await brim.fetch(path, { token, headers: { "x-user-id": "mallory", "x-org-id": "evil" } });
    expect(res.status).toBe(200);
    const [seen] = (await requests(path)).requests;
    expect(seen?.headers["x-user-id"]).toBe("alice");
    expect(seen?.headers["x-org-id"]).toBe("acme-org");
    // Without stripAuthorization the token itself is passed on.
    expect(seen?.headers.authorization).toBe(`Bearer ${token}`);
  });

  it("HS256 with the secret from a Worker secret binding", async () => {
    const key = await hmacKey();
    const brim = testBrim([
      {
        id: "acme",
        auth: authBlock({ secretEnv: JWT_SECRET_ENV }, { forward: FORWARD }),
        routes: [{ path: "/*", auth: "required", cache: false }],
      },
    ]);
    const path = uniquePath();
    const res = await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now(), { sub: "bob" })) });
    expect(res.status).toBe(200);
    expect((await requests(path)).requests[0]?.headers["x-user-id"]).toBe("bob");
  });

  it("inline static keys, with a token from a cookie, and stripAuthorization removing it", async () => {
    const key = await signingKey("ES256");
    const brim = testBrim([
      {
        id: "acme",
        auth: authBlock({ keys: [key.jwk!] }, { token: { cookie: "session" }, forward: { ...FORWARD, stripAuthorization: true } }),
        routes: [{ path: "/*", auth: "required", cache: false }],
      },
    ]);
    const path = uniquePath();
    const token = await sign(key, goodClaims(brim.clock.now()));
    const res = await brim.fetch(path, { headers: { cookie: `theme=dark; session=${token}; lang=en` } });
    expect(res.status).toBe(200);
    const seen = (await requests(path)).requests[0]!;
    expect(seen.headers.cookie).toBe("theme=dark; lang=en");
    expect(seen.headers["x-user-id"]).toBe("alice");
    expect(JSON.stringify(seen.headers)).not.toContain(token);
  });

  it("stripAuthorization removes the Authorization header", async () => {
    const key = await signingKey("RS256");
    const { brim } = await jwksTenant([key], { forward: { ...FORWARD, stripAuthorization: true } });
    const path = uniquePath();
    expect((await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now())) })).status).toBe(200);
    expect((await requests(path)).requests[0]?.headers.authorization).toBeUndefined();
  });

  it("client-sent claim headers are removed even on routes without auth", async () => {
    const key = await signingKey("RS256");
    const { brim } = await jwksTenant([key]);
    const path = uniquePath("/open");
    expect((await brim.fetch(path, { headers: { "x-user-id": "mallory", "x-other": "kept" } })).status).toBe(200);
    const seen = (await requests(path)).requests[0]!;
    expect(seen.headers["x-user-id"]).toBeUndefined();
    expect(seen.headers["x-other"]).toBe("kept");
  });

  it("an optional route lets anonymous requests through, without claim headers", async () => {
    const key = await signingKey("RS256");
    const { brim } = await jwksTenant([key]);
    const path = uniquePath("/maybe");
    expect((await brim.fetch(path, { headers: { "x-user-id": "mallory" } })).status).toBe(200);
    expect((await requests(path)).requests[0]?.headers["x-user-id"]).toBeUndefined();
  });

  it("a required typ is enforced (RFC 9068 at+jwt)", async () => {
    const key = await signingKey("RS256");
    const { brim } = await jwksTenant([key], { typ: "at+jwt" });
    const path = uniquePath();
    const claims = goodClaims(brim.clock.now());
    expect((await brim.fetch(path, { token: await sign(key, claims, { typ: "at+jwt" }) })).status).toBe(200);
    expect((await brim.fetch(path, { token: await sign(key, claims, { typ: "JWT" }) })).status).toBe(401);
  });
});

type Forge = (ctx: { key: SigningKey; other: SigningKey; now: number }) => Promise<string>;

const now = (ms: number) => Math.floor(ms / 1000);

/** [name, how the token is made, the reason Brim logs]. */
const REJECTIONS: [string, Forge, string][] = [
  ["expired", ({ key, now: n }) => sign(key, goodClaims(n, { exp: now(n) - 120 })), "expired"],
  ["nbf in the future", ({ key, now: n }) => sign(key, goodClaims(n, { nbf: now(n) + 600 })), "not-yet-valid"],
  ["iat in the future", ({ key, now: n }) => sign(key, goodClaims(n, { iat: now(n) + 600 })), "issued-in-future"],
  ["wrong iss", ({ key, now: n }) => sign(key, goodClaims(n, { iss: "https://evil.test" })), "wrong-issuer"],
  ["wrong aud", ({ key, now: n }) => sign(key, goodClaims(n, { aud: "other-api" })), "wrong-audience"],
  ["missing exp", ({ key, now: n }) => sign(key, { ...goodClaims(n), exp: undefined }), "missing-exp"],
  [
    "alg none",
    async ({ now: n }) => `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(goodClaims(n)))}.`,
    "malformed",
  ],
  [
    "alg none with a dummy signature",
    async ({ now: n }) => `${b64url(JSON.stringify({ alg: "none" }))}.${b64url(JSON.stringify(goodClaims(n)))}.AAAA`,
    "alg-not-allowed",
  ],
  ["HS256 signed with the RSA public key", ({ key, now: n }) => hs256WithPublicKey(key, goodClaims(n)), "alg-not-allowed"],
  ["unknown kid", ({ other, now: n }) => sign(other, goodClaims(n)), "unknown-kid"],
  ["signed by another key under our kid", ({ key, other, now: n }) => sign({ ...other, kid: key.kid }, goodClaims(n)), "bad-signature"],
  [
    "tampered payload",
    async ({ key, now: n }) => {
      const [h, , s] = (await sign(key, goodClaims(n, { sub: "alice" }))).split(".");
      return `${h}.${b64url(JSON.stringify(goodClaims(n, { sub: "admin" })))}.${s}`;
    },
    "bad-signature",
  ],
  ["bad base64url", async ({ key, now: n }) => (await sign(key, goodClaims(n))).replace(".", ".!!"), "malformed"],
  ["padded base64url", async ({ key, now: n }) => `${await sign(key, goodClaims(n))}==`, "malformed"],
  [
    "payload not JSON",
    ({ key }) =>
      signRaw({ alg: "RS256", kid: key.kid }, "x", key.privateKey, "RS256").then((t) => t.replace(/\.[^.]+\./, `.${b64url("not json")}.`)),
    "bad-signature",
  ],
  [
    "signed payload not JSON",
    async ({ key }) => {
      const input = `${b64url(JSON.stringify({ alg: "RS256", kid: key.kid }))}.${b64url("{not json")}`;
      const sig = await crypto.subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, key.privateKey, new TextEncoder().encode(input));
      return `${input}.${b64url(new Uint8Array(sig))}`;
    },
    "malformed",
  ],
  [
    "unknown crit",
    ({ key, now: n }) =>
      signRaw({ alg: "RS256", kid: key.kid, crit: ["x-brim-unknown"], "x-brim-unknown": 1 }, goodClaims(n), key.privateKey, "RS256"),
    "unsupported-crit",
  ],
  ["oversize", ({ key, now: n }) => sign(key, goodClaims(n, { pad: "x".repeat(9000) })), "oversize"],
  ["two segments", async () => "abc.def", "malformed"],
];

describe("every invalid token gets 401 invalid_token and never reaches the origin", () => {
  it.each(REJECTIONS)("%s", async (_name, forge, reason) => {
    const key = await signingKey("RS256");
    const other = await signingKey("RS256");
    const { brim } = await jwksTenant([key]);
    const path = uniquePath();
    const token = await forge({ key, other, now: brim.clock.now() });
    const res = await brim.fetch(path, { token });
    expect(res.status).toBe(401);
    expectChallenge(res, "invalid_token");
    expect(await res.text()).toBe("Unauthorized: the token is not valid\n");
    expect(await count(path)).toBe(0);
    const failure = brim.logs.find((e) => e.event === "auth-failed");
    expect(failure?.reason).toBe(reason);
    // The token is never logged, whole or in part.
    expect(JSON.stringify(brim.logs)).not.toContain(token.split(".")[1] ?? token);
  });

  it("a token is rejected on an optional route too (a bad token is not anonymous)", async () => {
    const key = await signingKey("RS256");
    const { brim } = await jwksTenant([key]);
    const path = uniquePath("/maybe");
    const res = await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now(), { exp: now(brim.clock.now()) - 100 })) });
    expect(res.status).toBe(401);
    expect(await count(path)).toBe(0);
  });

  it("a token that expires is refused once its exp passes (skew included), even though it was cached", async () => {
    const key = await signingKey("ES256");
    const { brim } = await jwksTenant([key], { clockSkewSeconds: 10 });
    const path = uniquePath();
    const token = await sign(key, goodClaims(brim.clock.now(), { exp: now(brim.clock.now()) + 60 }));
    expect((await brim.fetch(path, { token })).status).toBe(200);
    brim.clock.advance(65);
    expect((await brim.fetch(path, { token })).status).toBe(200);
    brim.clock.advance(10);
    expect((await brim.fetch(path, { token })).status).toBe(401);
    expect(await count(path)).toBe(2);
  });
});

describe("missing tokens and scopes", () => {
  it("no token on a required route: 401 without an error code (RFC 6750 §3.1)", async () => {
    const { brim } = await jwksTenant([await signingKey("RS256")]);
    const path = uniquePath();
    for (const headers of [{}, { authorization: "Basic dXNlcjpwYXNz" }, { authorization: "Bearer" }] as Record<string, string>[]) {
      const res = await brim.fetch(path, { headers });
      expect(res.status).toBe(401);
      expectChallenge(res, null);
    }
    expect(await count(path)).toBe(0);
  });

  it("a missing scope is 403 insufficient_scope naming the scope; with it the request passes", async () => {
    const key = await signingKey("RS256");
    const { brim } = await jwksTenant([key]);
    const path = uniquePath("/admin");
    const res = await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now(), { scope: "read write" })) });
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="acme", error="insufficient_scope", scope="admin"');
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await count(path)).toBe(0);
    expect((await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now(), { scope: "read admin" })) })).status).toBe(200);
    expect((await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now(), { scp: ["admin"] })) })).status).toBe(200);
  });

  it("HS256 without its secret binding answers 503, not 401 (the token may well be valid)", async () => {
    const key = await hmacKey();
    const brim = testBrim([{ id: "acme", auth: authBlock({ secretEnv: "NOT_BOUND_SECRET" }), routes: [{ path: "/*", auth: "required" }] }]);
    const path = uniquePath();
    const res = await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now())) });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("30");
    expect(await count(path)).toBe(0);
  });
});
