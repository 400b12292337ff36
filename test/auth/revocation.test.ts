/**
 * Revocation against a real list server on 127.0.0.1, through the real per-tenant
 * `RevocationList` Durable Object. Two `testBrim`s stand for two isolates: they share the
 * object, not their in-memory state. The clock is Brim's injected one (the object follows
 * the caller's clock), so the enforcement bound is tested without sleeping.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { testBrim, type TestBrim } from "../support/brim";
import { REVOCATION_RELAY_POLL_MS, REVOCATION_RELAY_REFRESH_MS } from "../../src/constants";
import { count, requests, uniquePath } from "../support/origin";
import {
  ADMIN_TOKEN,
  ADMIN_TOKEN_ENV,
  authBlock,
  goodClaims,
  revocationServer,
  sign,
  signingKey,
  type RevocationServer,
  type SigningKey,
} from "../support/jwt";

const REFRESH = 30;
const MAX_STALE = 300;
// How long a change takes to reach an isolate once the object has it: the relay copy is refreshed
// once REFRESH old, and isolates poll the relay every POLL (src/relay.ts).
const TTL_SECONDS = (REVOCATION_RELAY_REFRESH_MS + REVOCATION_RELAY_POLL_MS) / 1000;

async function setup(
  options: {
    onStale?: "deny" | "allow";
    list?: { jti?: string[]; sub?: Record<string, number> };
    isolates?: number;
    /** Named caches, one per isolate: isolates with the same name share a data center (default: all share one). */
    dataCenters?: readonly string[];
  } = {},
) {
  const key = await signingKey("ES256");
  const server = await revocationServer(options.list ?? {});
  const tenant = {
    id: "acme",
    auth: authBlock(
      { keys: [key.jwk!] },
      { revocation: { url: server.url, refreshSeconds: REFRESH, maxStaleSeconds: MAX_STALE, onStale: options.onStale ?? "deny" } },
    ),
    admin: { tokenEnv: ADMIN_TOKEN_ENV },
    routes: [{ path: "/*", auth: "required", cache: false }],
  };
  const dcs = options.dataCenters;
  const isolates = Array.from({ length: dcs?.length ?? options.isolates ?? 1 }, (_, i) =>
    testBrim([tenant], dcs ? { cache: () => caches.open(dcs[i]!) } : {}),
  );
  return { key, server, isolates, brim: isolates[0]! };
}

async function tokenFor(key: SigningKey, brim: TestBrim, claims: Record<string, unknown> = {}) {
  return sign(key, goodClaims(brim.clock.now(), claims));
}

function push(brim: TestBrim, body: unknown, token = ADMIN_TOKEN) {
  return brim.fetch("/__brim/revocations", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

function stubFor(server: RevocationServer) {
  return env.REVOCATIONS.get(env.REVOCATIONS.idFromName(`acme\n${server.url}`));
}

describe("the published list", () => {
  it(`a revoked jti is enforced within refreshSeconds + ${TTL_SECONDS} s of being published`, async () => {
    const { key, server, brim } = await setup();
    const path = uniquePath();
    const token = await tokenFor(key, brim, { jti: "jti-1", exp: Math.floor(brim.clock.now() / 1000) + 3600 });
    expect((await brim.fetch(path, { token })).status).toBe(200);
    await server.publish({ jti: ["jti-1"] });
    // Before the list is due for a refresh, the old list is still in force.
    brim.clock.advance(REFRESH - 1);
    expect((await brim.fetch(path, { token })).status).toBe(200);
    // Inside the bound: refreshSeconds + the isolate TTL.
    brim.clock.advance(TTL_SECONDS + 1);
    const statuses = [];
    for (let i = 0; i < 2; i++) statuses.push((await brim.fetch(path, { token })).status);
    expect(statuses[statuses.length - 1]).toBe(401);
    expect(brim.logs.some((e) => e.event === "auth-failed" && e.reason === "revoked-jti")).toBe(true);
    // Other tokens are unaffected.
    expect((await brim.fetch(path, { token: await tokenFor(key, brim, { jti: "jti-2" }) })).status).toBe(200);
  });

  it("is fetched once per interval for the whole deployment, not once per isolate, with ETag revalidation", async () => {
    const { key, server, isolates } = await setup({ isolates: 3 });
    const path = uniquePath();
    for (const brim of isolates) expect((await brim.fetch(path, { token: await tokenFor(key, brim) })).status).toBe(200);
    expect(await count(server.path)).toBe(1);
    for (let round = 0; round < 2; round++) {
      for (const brim of isolates) {
        brim.clock.advance(REFRESH + 1);
        expect((await brim.fetch(path, { token: await tokenFor(key, brim) })).status).toBe(200);
      }
    }
    // One fetch per interval (the clocks moved two intervals), whatever the number of isolates.
    const log = await requests(server.path);
    expect(log.count).toBe(3);
    // Unchanged list: conditional requests answered 304.
    expect(log.requests[1]?.headers["if-none-match"]).toBe('"v1"');
  });

  it("every token of a subject issued before the cut-off is revoked", async () => {
    const { key, server, brim } = await setup();
    const cutoff = Math.floor(brim.clock.now() / 1000);
    await server.publish({ sub: { alice: cutoff } });
    const path = uniquePath();
    const before = await tokenFor(key, brim, { sub: "alice", iat: cutoff - 10 });
    const after = await tokenFor(key, brim, { sub: "alice", iat: cutoff + 10 });
    const noIat = await tokenFor(key, brim, { sub: "alice", iat: undefined });
    const bob = await tokenFor(key, brim, { sub: "bob", iat: cutoff - 10 });
    expect((await brim.fetch(path, { token: before })).status).toBe(401);
    expect((await brim.fetch(path, { token: noIat })).status).toBe(401);
    expect((await brim.fetch(path, { token: after })).status).toBe(200);
    expect((await brim.fetch(path, { token: bob })).status).toBe(200);
    expect(brim.logs.filter((e) => e.reason === "revoked-sub")).toHaveLength(2);
  });

  it("the object's alarm refreshes the list without any request", async () => {
    const { key, server, brim } = await setup();
    const path = uniquePath();
    expect((await brim.fetch(path, { token: await tokenFor(key, brim, { jti: "a1" }) })).status).toBe(200);
    await server.publish({ jti: ["a1"] });
    expect(await runDurableObjectAlarm(stubFor(server))).toBe(true);
    expect(await count(server.path)).toBe(2);
    // The alarm re-armed itself for the next interval.
    expect(await runDurableObjectAlarm(stubFor(server))).toBe(true);
    brim.clock.advance(TTL_SECONDS);
    await brim.fetch(path, { token: await tokenFor(key, brim, { jti: "other" }) });
    expect((await brim.fetch(path, { token: await tokenFor(key, brim, { jti: "a1" }) })).status).toBe(401);
  });
});

describe("when the list server is down", () => {
  it("the last good list is used until maxStaleSeconds, then onStale deny answers 503 with Retry-After", async () => {
    const { key, server, brim } = await setup({ list: { jti: ["bad"] } });
    const path = uniquePath();
    expect((await brim.fetch(path, { token: await tokenFor(key, brim) })).status).toBe(200);
    await server.down();
    // Up to maxStaleSeconds after the last good fetch: the last good list, no waiting.
    for (let elapsed = 0; elapsed < MAX_STALE;) {
      const step = Math.min(REFRESH, MAX_STALE - elapsed);
      brim.clock.advance(step);
      elapsed += step;
      expect((await brim.fetch(path, { token: await tokenFor(key, brim) })).status).toBe(200);
      expect((await brim.fetch(path, { token: await tokenFor(key, brim, { jti: "bad" }) })).status).toBe(401);
    }
    brim.clock.advance(1);
    const before = await count(path);
    const res = await brim.fetch(path, { token: await tokenFor(key, brim) });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe(String(REFRESH));
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await count(path)).toBe(before);
    expect(brim.logs.find((e) => e.reason === "revocation-stale")).toBeDefined();
    // The fetch attempts stayed at one per interval.
    expect(await count(server.path)).toBeLessThanOrEqual(1 + Math.ceil((MAX_STALE + REFRESH) / REFRESH));

    // Back up: the next request triggers a read, the one after passes.
    await server.publish({ jti: ["bad"] });
    brim.clock.advance(REFRESH);
    await brim.fetch(path, { token: await tokenFor(key, brim) });
    expect((await brim.fetch(path, { token: await tokenFor(key, brim) })).status).toBe(200);
  });

  it('onStale "allow" lets tokens through past maxStaleSeconds, still applies the last list, and logs it', async () => {
    const { key, server, brim } = await setup({ onStale: "allow", list: { jti: ["bad"] } });
    const path = uniquePath();
    expect((await brim.fetch(path, { token: await tokenFor(key, brim) })).status).toBe(200);
    await server.down();
    brim.clock.advance(MAX_STALE + REFRESH);
    await brim.fetch(path, { token: await tokenFor(key, brim) });
    expect((await brim.fetch(path, { token: await tokenFor(key, brim) })).status).toBe(200);
    expect((await brim.fetch(path, { token: await tokenFor(key, brim, { jti: "bad" }) })).status).toBe(401);
    expect(brim.logs.some((e) => e.event === "revocation-stale-allowed")).toBe(true);
  });

  it("a list that was never fetched is stale: deny fails closed", async () => {
    const { key, server, brim } = await setup();
    await server.down();
    const path = `${uniquePath()}`;
    // (The server went down after setup published, but before any fetch.)
    const res = await brim.fetch(path, { token: await tokenFor(key, brim) });
    expect(res.status).toBe(503);
    expect(await count(path)).toBe(0);
  });
});

describe("immediate revocation: POST /__brim/revocations", () => {
  it("takes effect at once in this isolate and within the isolate TTL in the others", async () => {
    const { key, isolates } = await setup({ isolates: 2 });
    const [a, b] = isolates as [TestBrim, TestBrim];
    const path = uniquePath();
    const token = await tokenFor(key, a, { jti: "pushed-1" });
    expect((await a.fetch(path, { token })).status).toBe(200);
    expect((await b.fetch(path, { token })).status).toBe(200);
    const res = await push(a, { jti: ["pushed-1"] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, jti: 1, sub: 0 });
    expect((await a.fetch(path, { token })).status).toBe(401);
    b.clock.advance(TTL_SECONDS);
    await b.fetch(path, { token: await tokenFor(key, b) });
    expect((await b.fetch(path, { token })).status).toBe(401);
  });

  it("through the relay: the pushing isolate's data center at its next poll, another data center after its relay refresh", async () => {
    const [dcA, dcB] = [`dc-${crypto.randomUUID()}`, `dc-${crypto.randomUUID()}`];
    const { key, isolates } = await setup({ dataCenters: [dcA, dcA, dcB] });
    const [a1, a2, b1] = isolates as [TestBrim, TestBrim, TestBrim];
    const advance = (ms: number) => isolates.forEach((brim) => brim.clock.advance(ms / 1000));
    const path = uniquePath();
    const token = await tokenFor(key, a1, { jti: "relayed-1" });
    for (const brim of isolates) expect((await brim.fetch(path, { token })).status).toBe(200);
    expect((await push(a1, { jti: ["relayed-1"] })).status).toBe(200);
    expect((await a1.fetch(path, { token })).status).toBe(401);
    advance(REVOCATION_RELAY_POLL_MS);
    // Each request at the poll used the list it had; the poll read the data center's relay copy.
    for (const brim of [a2, b1]) expect((await brim.fetch(path, { token })).status).toBe(200);
    expect((await a2.fetch(path, { token })).status).toBe(401);
    expect((await b1.fetch(path, { token })).status).toBe(200);
    advance(REVOCATION_RELAY_REFRESH_MS - REVOCATION_RELAY_POLL_MS);
    expect((await b1.fetch(path, { token })).status).toBe(200);
    expect((await b1.fetch(path, { token })).status).toBe(401);
  });

  it("pushes subjects too, and survives the next pull of a list that does not carry them yet", async () => {
    const { key, server, brim } = await setup();
    const path = uniquePath();
    const token = await tokenFor(key, brim, { sub: "carol", iat: Math.floor(brim.clock.now() / 1000) - 5 });
    expect((await brim.fetch(path, { token })).status).toBe(200);
    expect((await push(brim, { sub: { carol: Math.floor(brim.clock.now() / 1000) } })).status).toBe(200);
    expect((await brim.fetch(path, { token })).status).toBe(401);
    await server.publish({ jti: ["unrelated"] });
    brim.clock.advance(REFRESH + 1);
    await brim.fetch(path, { token: await tokenFor(key, brim) });
    expect((await brim.fetch(path, { token })).status).toBe(401);
  });

  it("needs the tenant's admin token, compared exactly", async () => {
    const { brim } = await setup();
    for (const token of ["wrong", `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1), ""]) {
      const res = await push(brim, { jti: ["x"] }, token);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="acme admin"');
    }
    expect((await brim.fetch("/__brim/revocations", { method: "POST", body: "{}" })).status).toBe(401);
    expect(JSON.stringify(brim.logs)).not.toContain(ADMIN_TOKEN);
  });

  it("rejects malformed bodies, other methods and other paths; is never proxied", async () => {
    const { brim } = await setup();
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    for (const body of ["not json", "[]", '{"jti":[1]}', '{"sub":{"a":"x"}}', "{}"]) {
      expect((await brim.fetch("/__brim/revocations", { method: "POST", headers: auth, body })).status).toBe(400);
    }
    expect((await brim.fetch("/__brim/revocations", { headers: auth })).status).toBe(405);
    expect((await brim.fetch("/__brim/other", { headers: auth })).status).toBe(404);
    expect(await count("/__brim/revocations")).toBe(0);
    expect(await count("/__brim/other")).toBe(0);
  });

  it("a tenant without an admin block has no admin endpoint", async () => {
    const key = await signingKey("ES256");
    const brim = testBrim([{ id: "acme", auth: authBlock({ keys: [key.jwk!] }), routes: [{ path: "/*" }] }]);
    expect((await push(brim, { jti: ["x"] })).status).toBe(404);
    expect(await count("/__brim/revocations")).toBe(0);
  });
});
