/**
 * The verified-token cache never outlives the key that verified a token (issue #11 §3), against
 * a real JWKS on 127.0.0.1 and Brim's injected clock: a kid removed from the JWKS stops
 * admitting tokens — cached or not — in every isolate within `jwksMaxAgeSeconds`, and a token
 * with a new kid waits for a JWKS refresh already in flight instead of getting a 401. Two
 * `testBrim`s stand for two isolates. Nothing sleeps: the origin's gates hold the JWKS.
 */
import { describe, expect, it } from "vitest";
import { testBrim, type TestBrim } from "../support/brim";
import { count, release, script, uniqueGate, uniquePath } from "../support/origin";
import { authBlock, goodClaims, jwksServer, sign, signingKey, type SigningKey } from "../support/jwt";

const MAX_AGE = 100;
const ECHO = { headers: { "cache-control": "public, max-age=600" }, body: "user={header:x-user-id} #{count}" };

async function setup(keys: SigningKey[], isolates = 1) {
  const jwks = await jwksServer(keys);
  const tenant = {
    id: "acme",
    auth: authBlock(
      { jwksUrl: jwks.url },
      { jwksMaxAgeSeconds: MAX_AGE, jwksCooldownSeconds: 1_000, forward: { claims: { sub: "x-user-id" }, stripAuthorization: true } },
    ),
    routes: [{ path: "/*", auth: "required" }],
  };
  return { jwks, isolates: Array.from({ length: isolates }, () => testBrim([tenant])) };
}

describe("a kid removed from the JWKS", () => {
  it(`stops admitting tokens, cached ones included, in every isolate within jwksMaxAgeSeconds (${MAX_AGE} s)`, async () => {
    const compromised = await signingKey("ES256");
    const kept = await signingKey("ES256");
    const { jwks, isolates } = await setup([compromised, kept], 2);
    const [busy, idle] = isolates as [TestBrim, TestBrim];
    const path = uniquePath();
    await script(path, [ECHO]);
    const mallory = await sign(
      compromised,
      goodClaims(busy.clock.now(), { sub: "mallory", exp: Math.floor(busy.clock.now() / 1000) + 3600 }),
    );
    // Both isolates verify (and cache) the token while its key is published.
    for (const brim of isolates) expect((await brim.fetch(path, { token: mallory })).status).toBe(200);
    await jwks.publish([kept]);

    // The busy isolate: inside the bound the old keys may still be in use…
    busy.clock.advance(MAX_AGE * 0.8 - 1);
    expect((await busy.fetch(path, { token: mallory })).status).toBe(200);
    // …past the refresh point the keys are refetched in the background, and from then on the
    // cached entry is not reused: the token is verified again, and its kid is gone.
    busy.clock.advance(2);
    await busy.fetch(path, { token: mallory });
    expect((await busy.fetch(path, { token: mallory })).status).toBe(401);
    expect(busy.logs.filter((e) => e.event === "auth-failed").map((e) => e.reason)).toEqual(["unknown-kid"]);

    // The idle isolate's first request past the max age waits for the refetch: never admitted.
    idle.clock.advance(MAX_AGE);
    expect((await idle.fetch(path, { token: mallory })).status).toBe(401);
    expect(idle.logs.find((e) => e.event === "auth-failed")?.reason).toBe("unknown-kid");

    // Other clients are unaffected and never see Mallory's answer; without a token: 401.
    for (const brim of isolates) {
      const bob = await brim.fetch(path, { token: await sign(kept, goodClaims(brim.clock.now(), { sub: "bob" })) });
      expect(await bob.text()).toMatch(/^user=bob #\d+$/);
      expect((await brim.fetch(path)).status).toBe(401);
    }
    // One load and one refresh per isolate.
    expect(await count(jwks.path)).toBe(4);
  });

  it("an unchanged JWKS keeps cached tokens (the generation only moves when the keys do)", async () => {
    const key = await signingKey("RS256");
    const { jwks, isolates } = await setup([key]);
    const brim = isolates[0]!;
    const path = uniquePath();
    await script(path, [ECHO]);
    const token = await sign(key, goodClaims(brim.clock.now()));
    expect((await brim.fetch(path, { token })).status).toBe(200);
    brim.clock.advance(MAX_AGE + 1);
    expect((await brim.fetch(path, { token })).status).toBe(200);
    expect(await count(jwks.path)).toBe(2);
    expect(brim.logs.filter((e) => e.event === "jwks-fetched").map((e) => e.generation)).toEqual([1, 1]);
  });

  it("when the JWKS cannot be reached past its max age, the last good keys stay in use (availability over the bound)", async () => {
    const key = await signingKey("ES256");
    const { jwks, isolates } = await setup([key]);
    const brim = isolates[0]!;
    const path = uniquePath();
    await script(path, [ECHO]);
    expect((await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now())) })).status).toBe(200);
    await jwks.down();
    brim.clock.advance(MAX_AGE + 1);
    expect((await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now())) })).status).toBe(200);
    expect(brim.logs.some((e) => e.event === "jwks-fetch-failed" && e.keptLastGood === true)).toBe(true);
  });
});

describe("a new kid during a JWKS refresh", () => {
  it("waits for the refresh in flight instead of getting a 401", async () => {
    const old = await signingKey("ES256");
    const next = await signingKey("ES256");
    const { jwks, isolates } = await setup([old]);
    const brim = isolates[0]!;
    const path = uniquePath();
    await script(path, [ECHO]);
    expect((await brim.fetch(path, { token: await sign(old, goodClaims(brim.clock.now(), { sub: "alice" })) })).status).toBe(200);

    // The rotated JWKS is held at a gate: the background refresh stays in flight.
    const gate = uniqueGate();
    await script(jwks.path, [
      { headers: { "content-type": "application/json" }, body: JSON.stringify({ keys: [old.jwk, next.jwk] }), gate },
    ]);
    brim.clock.advance(MAX_AGE * 0.8 + 1);
    const starter = await brim.fetch(path, { token: await sign(old, goodClaims(brim.clock.now(), { sub: "alice" })), background: false });
    expect(starter.status).toBe(200);
    await starter.text();

    let settled = false;
    const waiting = brim
      .fetch(path, { token: await sign(next, goodClaims(brim.clock.now(), { sub: "bob" })), background: false })
      .finally(() => (settled = true));
    // Several round trips to the origin: time enough for a 401 to come back, if one would.
    for (let i = 0; i < 5; i++) await count(jwks.path);
    expect(settled).toBe(false);
    await release(gate);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^user=bob #\d+$/);
    expect(brim.logs.some((e) => e.event === "auth-failed")).toBe(false);
    expect(await count(jwks.path)).toBe(2);
  });
});
