/**
 * The revocation feed is checked before it replaces the last good list (issue #11 §3), through
 * the real `RevocationList` Durable Object and a real feed on 127.0.0.1: a feed that does not
 * match the schema (unknown or wrongly typed members, another issuer's list, not JSON) is
 * rejected and counted, and so is one that shrinks to empty or loses most of its entries
 * without `"allowShrink": true`. Revoked tokens stay revoked through every rejected feed;
 * other clients are unaffected; nothing opens without a valid token.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { testBrim, type TestBrim } from "../support/brim";
import { REVOCATION_MAX_SHRINK_FRACTION, REVOCATION_RELAY_POLL_MS, REVOCATION_RELAY_REFRESH_MS } from "../../src/constants";
import type { RevocationList } from "../../src/auth/revocation/object";
import { count, script, uniquePath } from "../support/origin";
import {
  ADMIN_TOKEN,
  ADMIN_TOKEN_ENV,
  authBlock,
  goodClaims,
  ISSUER,
  revocationServer,
  sign,
  signingKey,
  type RevocationFeed,
  type RevocationServer,
  type SigningKey,
} from "../support/jwt";

const REFRESH = 30;
// How long a change takes to reach an isolate once the object has it: the relay copy is refreshed
// once REFRESH old, and isolates poll the relay every POLL (src/relay.ts).
const TTL_SECONDS = (REVOCATION_RELAY_REFRESH_MS + REVOCATION_RELAY_POLL_MS) / 1000;
const ECHO = { headers: { "cache-control": "public, max-age=600" }, body: "user={header:x-user-id} #{count}" };

/** The last good list: four revoked jti and one revoked subject (five entries). */
const GOOD = { jti: ["bad-1", "bad-2", "bad-3", "bad-4"], sub: { mallory: 2_000_000_000 } };

async function setup() {
  const key = await signingKey("ES256");
  const server = await revocationServer(GOOD);
  const brim = testBrim([
    {
      id: "acme",
      auth: authBlock(
        { keys: [key.jwk!] },
        {
          revocation: { url: server.url, refreshSeconds: REFRESH, maxStaleSeconds: 600 },
          forward: { claims: { sub: "x-user-id" }, stripAuthorization: true },
        },
      ),
      admin: { tokenEnv: ADMIN_TOKEN_ENV },
      routes: [{ path: "/*", auth: "required" }],
    },
  ]);
  const path = uniquePath();
  await script(path, [ECHO]);
  // The first request loads GOOD.
  expect((await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now(), { sub: "bob" })) })).status).toBe(200);
  return { key, server, brim, path };
}

/** Lets the object fetch the feed again and this isolate read the result. */
async function nextInterval(brim: TestBrim, key: SigningKey, path: string) {
  brim.clock.advance(REFRESH + TTL_SECONDS);
  await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now(), { sub: "bob" })) });
}

function stubFor(server: RevocationServer): DurableObjectStub<RevocationList> {
  return env.REVOCATIONS.get(env.REVOCATIONS.idFromName(`acme\n${server.url}`));
}

async function rejections(server: RevocationServer, brim: TestBrim) {
  const source = { url: server.url, refreshSeconds: REFRESH, issuer: ISSUER, tenantId: "acme" };
  return (await stubFor(server).read({ source, now: brim.clock.now(), have: null })).feedRejections;
}

async function statusOf(brim: TestBrim, key: SigningKey, path: string, claims: Record<string, unknown>) {
  return (await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now(), claims)) })).status;
}

/** [name, the feed as served, the reason counted]. */
const REJECTED: [string, RevocationFeed | string, string][] = [
  ["an unknown member", { ...GOOD, revoked: ["x"] }, "schema"],
  ["jti not a list", { ...GOOD, jti: "bad-1" }, "schema"],
  ["a jti that is not a string", { ...GOOD, jti: ["bad-1", 2, "bad-3", "bad-4"] }, "schema"],
  ["jti null", { ...GOOD, jti: null }, "schema"],
  ["a subject cut-off that is not a number", { ...GOOD, sub: { mallory: "2033-01-01" } }, "schema"],
  ["allowShrink not a boolean", { jti: [], allowShrink: "yes" }, "schema"],
  ["a JSON array", JSON.stringify([GOOD]), "schema"],
  ["not JSON", "<html>maintenance</html>", "not-json"],
  ["another issuer's list", { ...GOOD, jti: ["other-1"], iss: "https://other-idp.test" }, "wrong-issuer"],
  ["no iss", { ...GOOD, iss: undefined }, "wrong-issuer"],
  ["empty, without allowShrink", { jti: [], sub: {} }, "shrink"],
  ["no members at all but iss", {}, "shrink"],
  [`losing more than ${REVOCATION_MAX_SHRINK_FRACTION * 100} % of the entries`, { jti: ["bad-1", "bad-2"] }, "shrink"],
  ["allowShrink false", { jti: ["bad-1"], allowShrink: false }, "shrink"],
];

describe("a feed that may not replace the last good list", () => {
  it.each(REJECTED)("%s: rejected, counted, the last good list stays in force", async (_name, feed, reason) => {
    const { key, server, brim, path } = await setup();
    if (typeof feed === "string") await server.publishRaw(feed);
    else await server.publish(feed);
    await nextInterval(brim, key, path);
    expect(await count(server.path)).toBe(2);
    expect(await rejections(server, brim)).toEqual({ [reason]: 1 });
    // Every entry of GOOD is still enforced.
    for (const jti of GOOD.jti) expect(await statusOf(brim, key, path, { sub: "carol", jti })).toBe(401);
    expect(await statusOf(brim, key, path, { sub: "mallory" })).toBe(401);
    // Another client is served its own answer; no token: 401.
    const carol = await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now(), { sub: "carol" })) });
    expect(await carol.text()).toBe("user=carol #2");
    expect((await brim.fetch(path)).status).toBe(401);
    // Each further fetch of the same feed is rejected and counted again.
    await nextInterval(brim, key, path);
    expect(await rejections(server, brim)).toEqual({ [reason]: 2 });
    expect(await statusOf(brim, key, path, { sub: "carol", jti: "bad-1" })).toBe(401);
  });
});

describe("what a feed may do", () => {
  it('shrinks to empty when it says "allowShrink": true', async () => {
    const { key, server, brim, path } = await setup();
    await server.publish({ jti: [], allowShrink: true });
    await nextInterval(brim, key, path);
    expect(await statusOf(brim, key, path, { sub: "mallory", jti: "bad-1" })).toBe(200);
    expect(await rejections(server, brim)).toEqual({});
  });

  it(`loses up to ${REVOCATION_MAX_SHRINK_FRACTION * 100} % of its entries without saying so (tokens expire, lists shrink)`, async () => {
    const { key, server, brim, path } = await setup();
    await server.publish({ jti: ["bad-1", "bad-2"], sub: { mallory: 2_000_000_000 } });
    await nextInterval(brim, key, path);
    expect(await statusOf(brim, key, path, { sub: "carol", jti: "bad-4" })).toBe(200);
    expect(await statusOf(brim, key, path, { sub: "carol", jti: "bad-1" })).toBe(401);
    expect(await rejections(server, brim)).toEqual({});
  });

  it("the shrink baseline is the last accepted list, kept in storage across evictions", async () => {
    const { key, server, brim, path } = await setup();
    await server.publish({ jti: [...GOOD.jti, "bad-5"], sub: GOOD.sub });
    await nextInterval(brim, key, path);
    const stored = await runInDurableObject(stubFor(server), (_instance, state) => state.storage.get<number>("published-size"));
    expect(stored).toBe(6);
    expect(await statusOf(brim, key, path, { sub: "carol", jti: "bad-5" })).toBe(401);
  });

  it("a first feed that is rejected leaves no list: onStale deny fails closed", async () => {
    const key = await signingKey("ES256");
    const server = await revocationServer({ ...GOOD, iss: "https://other-idp.test" });
    const brim = testBrim([
      {
        id: "acme",
        auth: authBlock({ keys: [key.jwk!] }, { revocation: { url: server.url } }),
        routes: [{ path: "/*", auth: "required", cache: false }],
      },
    ]);
    const path = uniquePath();
    expect(await statusOf(brim, key, path, { sub: "bob" })).toBe(503);
    expect(await count(path)).toBe(0);
  });
});

describe("pushed revocations use the same entries, strictly", () => {
  it.each([['{"jti":["a"],"extra":1}'], ['{"jti":["a"],"iss":"https://idp.test"}'], ['{"jti":["a"],"allowShrink":true}']])(
    "%s is 400",
    async (body) => {
      const { brim } = await setup();
      const res = await brim.fetch("/__brim/revocations", { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body });
      expect(res.status).toBe(400);
      expect(brim.logs.find((e) => e.event === "admin-bad-request")?.detail).toContain("unknown member");
    },
  );
});
