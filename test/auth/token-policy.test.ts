/**
 * What kind of token opens an API (issue #11 §3), end to end through Brim with a real origin:
 * `typ` (other kinds of JWT are refused by default; `auth.typ` pins one), the longest token
 * lifetime (`maxTokenLifetimeSeconds`), and HMAC secrets shorter than their hash (RFC 7518
 * §3.2), which are refused when first imported — 503, never acceptance. After every rejected
 * token, another client's clean request gets its own answer and a request without a token
 * stays closed.
 */
import { env } from "cloudflare:workers";
import type { JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import { testBrim, type TestBrim } from "../support/brim";
import { count, script, uniquePath } from "../support/origin";
import { authBlock, b64url, goodClaims, sign, signingKey } from "../support/jwt";

const ECHO = { headers: { "cache-control": "public, max-age=60" }, body: "user={header:x-user-id} #{count}" };
const FORWARD = { claims: { sub: "x-user-id" } };

/** After an attack on `path`: nothing reached the origin, a clean client is served its own answer, no token is 401. */
async function expectUntouched(brim: TestBrim, path: string, valid: () => Promise<string>) {
  expect(await count(path)).toBe(0);
  const clean = await brim.fetch(path, { token: await valid() });
  expect(clean.status).toBe(200);
  expect(await clean.text()).toBe("user=bob #1");
  expect((await brim.fetch(path)).status).toBe(401);
}

describe("typ", () => {
  /** [header typ (undefined: none), pinned auth.typ, accepted]. */
  const CASES: [unknown, string | undefined, boolean][] = [
    [undefined, undefined, true],
    ["JWT", undefined, true],
    ["jwt", undefined, true],
    ["application/jwt", undefined, true],
    ["at+jwt", undefined, true],
    ["application/AT+JWT", undefined, true],
    // RFC 8417 §2.3 Security Event Token
    ["secevent+jwt", undefined, false],
    ["application/secevent+jwt", undefined, false],
    // OpenID Back-Channel Logout §2.4
    ["logout+jwt", undefined, false],
    // RFC 9449 §4.2 DPoP proof
    ["dpop+jwt", undefined, false],
    // RFC 9701 JWT introspection response, RFC 9101 request object, SD-JWT key binding
    ["token-introspection+jwt", undefined, false],
    ["oauth-authz-req+jwt", undefined, false],
    ["kb+jwt", undefined, false],
    // RFC 7515 §9.1: a generic JWS, not a claims set
    ["JOSE", undefined, false],
    ["id_token+jwt", undefined, false],
    [42, undefined, false],
    // Pinned: exactly that one.
    ["at+jwt", "at+jwt", true],
    ["application/at+jwt", "at+jwt", true],
    ["JWT", "at+jwt", false],
    [undefined, "at+jwt", false],
    ["logout+jwt", "at+jwt", false],
    ["secevent+jwt", "secevent+jwt", true],
  ];

  it.each(CASES)("typ %s (auth.typ %s): accepted %s", async (typ, pinned, accepted) => {
    const key = await signingKey("ES256");
    const brim = testBrim([
      {
        id: "acme",
        auth: authBlock({ keys: [key.jwk!] }, { forward: FORWARD, ...(pinned ? { typ: pinned } : {}) }),
        routes: [{ path: "/*", auth: "required" }],
      },
    ]);
    const path = uniquePath();
    await script(path, [ECHO]);
    const token = await sign(key, goodClaims(brim.clock.now(), { sub: "mallory" }), { typ });
    const res = await brim.fetch(path, { token });
    if (accepted) {
      expect(res.status).toBe(200);
      return;
    }
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="acme", error="invalid_token"');
    expect(brim.logs.find((e) => e.event === "auth-failed")?.reason).toBe("wrong-typ");
    await expectUntouched(brim, path, () => sign(key, goodClaims(brim.clock.now(), { sub: "bob" }), pinned ? { typ: pinned } : {}));
  });
});

describe("maxTokenLifetimeSeconds", () => {
  const now = (ms: number) => Math.floor(ms / 1000);
  /** [name, claims from now (s), reason or null]. */
  const CASES: [string, (n: number) => JWTPayload, string | null][] = [
    ["exactly the limit", (n) => ({ iat: n, exp: n + 3600 }), null],
    ["issued earlier, within the limit", (n) => ({ iat: n - 3000, exp: n + 600 }), null],
    ["one second beyond", (n) => ({ iat: n, exp: n + 3601 }), "lifetime-too-long"],
    ["a year-long token", (n) => ({ iat: n - 60, exp: n + 365 * 86_400 }), "lifetime-too-long"],
    ["no iat to measure from", (n) => ({ iat: undefined, exp: n + 60 }), "missing-iat"],
  ];

  it.each(CASES)("%s", async (_name, times, reason) => {
    const key = await signingKey("ES256");
    const brim = testBrim([
      {
        id: "acme",
        auth: authBlock({ keys: [key.jwk!] }, { forward: FORWARD, maxTokenLifetimeSeconds: 3600 }),
        routes: [{ path: "/*", auth: "required" }],
      },
    ]);
    const path = uniquePath();
    await script(path, [ECHO]);
    const res = await brim.fetch(path, {
      token: await sign(key, goodClaims(brim.clock.now(), { sub: "mallory", ...times(now(brim.clock.now())) })),
    });
    if (reason === null) {
      expect(res.status).toBe(200);
      return;
    }
    expect(res.status).toBe(401);
    expect(brim.logs.find((e) => e.event === "auth-failed")?.reason).toBe(reason);
    await expectUntouched(brim, path, () => sign(key, goodClaims(brim.clock.now(), { sub: "bob" })));
  });

  it("without the option, long-lived tokens and tokens without iat pass (the default is no limit)", async () => {
    const key = await signingKey("ES256");
    const brim = testBrim([
      { id: "acme", auth: authBlock({ keys: [key.jwk!] }), routes: [{ path: "/*", auth: "required", cache: false }] },
    ]);
    const n = now(brim.clock.now());
    expect(
      (await brim.fetch(uniquePath(), { token: await sign(key, goodClaims(brim.clock.now(), { iat: undefined, exp: n + 365 * 86_400 })) }))
        .status,
    ).toBe(200);
  });
});

type Hmac = "HS256" | "HS384" | "HS512";
const HASH: Record<Hmac, string> = { HS256: "SHA-256", HS384: "SHA-384", HS512: "SHA-512" };

/** An HMAC-signed token made with WebCrypto (no library check on the key length). */
async function hmacToken(alg: Hmac, secretEnv: string, claims: JWTPayload): Promise<string> {
  const secret = (env as unknown as Record<string, string>)[secretEnv] ?? "";
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: HASH[alg] }, false, ["sign"]);
  const input = `${b64url(JSON.stringify({ alg, typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input))))}`;
}

describe("HMAC secrets shorter than the hash (RFC 7518 §3.2)", () => {
  /** [Worker secret (bytes), alg, accepted]. */
  const CASES: [string, Hmac, boolean][] = [
    ["TEST_JWT_SECRET_31", "HS256", false],
    ["TEST_JWT_SECRET", "HS256", true],
    ["TEST_JWT_SECRET", "HS384", false],
    ["TEST_JWT_SECRET_48", "HS384", true],
    ["TEST_JWT_SECRET_48", "HS512", false],
  ];

  it.each(CASES)("%s with %s: accepted %s", async (secretEnv, alg, accepted) => {
    const brim = testBrim([
      {
        id: "acme",
        auth: authBlock({ secretEnv }, { algorithms: ["HS256", "HS384", "HS512"], forward: FORWARD }),
        routes: [{ path: "/*", auth: "required" }],
      },
    ]);
    const path = uniquePath();
    await script(path, [ECHO]);
    const token = await hmacToken(alg, secretEnv, goodClaims(brim.clock.now(), { sub: "mallory" }));
    const first = await brim.fetch(path, { token });
    if (accepted) {
      expect(first.status).toBe(200);
      expect(brim.logs.some((e) => e.event === "hmac-secret-too-short")).toBe(false);
      return;
    }
    // Refused, as an outage of keys (503 Retry-After), never as acceptance.
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).toBe("30");
    expect((await brim.fetch(path, { token })).status).toBe(503);
    const refusals = brim.logs.filter((e) => e.event === "hmac-secret-too-short");
    // Logged once, when first imported, naming the secret (never its value).
    expect(refusals).toEqual([
      {
        event: "hmac-secret-too-short",
        tenant: "acme",
        secret: secretEnv,
        alg,
        bytes: expect.any(Number),
        minimumBytes: Number(alg.slice(2)) / 8,
      },
    ]);
    expect(brim.logs.filter((e) => e.event === "auth-failed").map((e) => e.reason)).toEqual(["keys-unavailable", "keys-unavailable"]);
    const value = (env as unknown as Record<string, string>)[secretEnv] ?? "";
    expect(JSON.stringify(brim.logs)).not.toContain(value);
    expect(await count(path)).toBe(0);
    expect((await brim.fetch(path)).status).toBe(401);
  });
});
