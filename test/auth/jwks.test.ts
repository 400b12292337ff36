/**
 * The per-isolate JWKS cache against a real JWKS on 127.0.0.1: one fetch serves many
 * requests, rotation costs one refetch, unknown kids are rate-limited by the cooldown,
 * refreshes happen in the background before the max age, and the last good keys survive an
 * outage. The clock is Brim's injected one; nothing sleeps.
 */
import { describe, expect, it } from "vitest";
import { testBrim } from "../support/brim";
import { count, uniquePath } from "../support/origin";
import { authBlock, goodClaims, jwksServer, sign, signingKey, type SigningKey } from "../support/jwt";

async function setup(keys: SigningKey[], auth: Record<string, unknown> = {}) {
  const jwks = await jwksServer(keys);
  const brim = testBrim([
    { id: "acme", auth: authBlock({ jwksUrl: jwks.url }, auth), routes: [{ path: "/*", auth: "required", cache: false }] },
  ]);
  return { brim, jwks };
}

describe("JWKS caching", () => {
  it("is fetched once for many requests and many tokens", async () => {
    const key = await signingKey("RS256");
    const { brim, jwks } = await setup([key]);
    const path = uniquePath();
    for (let i = 0; i < 5; i++) {
      expect((await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now())) })).status).toBe(200);
    }
    expect(await count(jwks.path)).toBe(1);
  });

  it("key rotation: a new kid in the JWKS works after exactly one refetch", async () => {
    const old = await signingKey("ES256");
    const next = await signingKey("ES256");
    const { brim, jwks } = await setup([old]);
    const path = uniquePath();
    expect((await brim.fetch(path, { token: await sign(old, goodClaims(brim.clock.now())) })).status).toBe(200);
    await jwks.publish([old, next]);
    brim.clock.advance(31);
    expect((await brim.fetch(path, { token: await sign(next, goodClaims(brim.clock.now())) })).status).toBe(200);
    expect((await brim.fetch(path, { token: await sign(next, goodClaims(brim.clock.now())) })).status).toBe(200);
    expect((await brim.fetch(path, { token: await sign(old, goodClaims(brim.clock.now())) })).status).toBe(200);
    expect(await count(jwks.path)).toBe(2);
  });

  it("a flood of random kids causes at most one JWKS fetch per cooldown", async () => {
    const key = await signingKey("RS256");
    const { brim, jwks } = await setup([key], { jwksCooldownSeconds: 30 });
    const path = uniquePath();
    expect((await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now())) })).status).toBe(200);
    const attacker = await signingKey("RS256");
    const flood = async () => {
      const results = await Promise.all(
        Array.from(
          { length: 40 },
          async () =>
            (await brim.fetch(path, { token: await sign({ ...attacker, kid: crypto.randomUUID() }, goodClaims(brim.clock.now())) })).status,
        ),
      );
      expect(results.every((s) => s === 401)).toBe(true);
    };
    // Within the cooldown of the initial load: no refetch at all.
    await flood();
    expect(await count(jwks.path)).toBe(1);
    // After it: one refetch for the whole flood.
    brim.clock.advance(31);
    await flood();
    expect(await count(jwks.path)).toBe(2);
    brim.clock.advance(10);
    await flood();
    expect(await count(jwks.path)).toBe(2);
    brim.clock.advance(25);
    await flood();
    expect(await count(jwks.path)).toBe(3);
    expect(await count(path)).toBe(1);
    // Valid tokens kept working throughout.
    expect((await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now())) })).status).toBe(200);
    // Two floods of 40 requests, each signing a token (RSA): an explicit budget for a busy machine.
  }, 30_000);

  it("is refreshed in the background before its max age; requests never wait for it", async () => {
    const old = await signingKey("RS256");
    const next = await signingKey("RS256");
    const { brim, jwks } = await setup([old], { jwksMaxAgeSeconds: 100, jwksCooldownSeconds: 1_000 });
    const path = uniquePath();
    expect((await brim.fetch(path, { token: await sign(old, goodClaims(brim.clock.now())) })).status).toBe(200);
    await jwks.publish([next]);
    brim.clock.advance(79);
    expect((await brim.fetch(path, { token: await sign(old, goodClaims(brim.clock.now())) })).status).toBe(200);
    expect(await count(jwks.path)).toBe(1);
    brim.clock.advance(2);
    // Past 80 % of the max age: this request is served with the cached keys, and refreshes them.
    expect((await brim.fetch(path, { token: await sign(old, goodClaims(brim.clock.now())) })).status).toBe(200);
    expect(await count(jwks.path)).toBe(2);
    // The refreshed set no longer has the old key; the new one works without another fetch
    // (the cooldown of 1000 s would forbid an unknown-kid refetch).
    expect((await brim.fetch(path, { token: await sign(next, goodClaims(brim.clock.now())) })).status).toBe(200);
    expect((await brim.fetch(path, { token: await sign(old, goodClaims(brim.clock.now())) })).status).toBe(401);
    expect(await count(jwks.path)).toBe(2);
  });

  it("when the JWKS is down, the last good keys keep working", async () => {
    const key = await signingKey("EdDSA");
    const { brim, jwks } = await setup([key], { jwksMaxAgeSeconds: 60 });
    const path = uniquePath();
    expect((await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now())) })).status).toBe(200);
    await jwks.down();
    for (let i = 0; i < 3; i++) {
      brim.clock.advance(120);
      expect((await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now())) })).status).toBe(200);
    }
    expect(brim.logs.some((e) => e.event === "jwks-fetch-failed" && e.keptLastGood === true)).toBe(true);
  });

  it("a cold isolate that cannot load the JWKS answers 503 with Retry-After, not 401", async () => {
    const key = await signingKey("RS256");
    const { brim, jwks } = await setup([key], { jwksCooldownSeconds: 30 });
    await jwks.down();
    const path = uniquePath();
    const res = await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now())) });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("30");
    expect(res.headers.get("cache-control")).toBe("no-store");
    // Within the cooldown, no new attempt.
    await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now())) });
    expect(await count(jwks.path)).toBe(1);
    await jwks.publish([key]);
    brim.clock.advance(31);
    expect((await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now())) })).status).toBe(200);
  });

  it("a key of the wrong type for the token's alg is refused (kid of an EC key, alg RS256)", async () => {
    const ec = await signingKey("ES256");
    const rsa = await signingKey("RS256");
    const { brim } = await setup([ec]);
    const path = uniquePath();
    const res = await brim.fetch(path, { token: await sign({ ...rsa, kid: ec.kid }, goodClaims(brim.clock.now())) });
    expect(res.status).toBe(401);
    expect(brim.logs.find((e) => e.event === "auth-failed")?.reason).toBe("key-mismatch");
  });
});
