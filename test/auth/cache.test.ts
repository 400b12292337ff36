/**
 * Auth and the edge cache: auth runs before the lookup, so cached content on an auth route
 * only reaches requests that pass; authenticated responses are shared only when the origin
 * says so or when the route keys the cache on verified claims (one entry per value, never
 * per token); anonymous requests and other tenants never see them.
 */
import { describe, expect, it } from "vitest";
import { testBrim } from "../support/brim";
import { count, requests, script, uniquePath } from "../support/origin";
import { ADMIN_TOKEN, ADMIN_TOKEN_ENV, authBlock, goodClaims, revocationServer, sign, signingKey, type SigningKey } from "../support/jwt";

const PUBLIC = { "cache-control": "public, max-age=60" };
const PLAIN = { "cache-control": "max-age=60" };

async function tenantAuth(key: SigningKey, extra: Record<string, unknown> = {}) {
  return authBlock({ keys: [key.jwk!] }, { forward: { claims: { sub: "x-user-id", org: "x-org-id" } }, ...extra });
}

describe("auth runs before the cache lookup", () => {
  it("cached content on a required route is never served to a request without a valid token", async () => {
    const key = await signingKey("RS256");
    const brim = testBrim([{ id: "acme", auth: await tenantAuth(key), routes: [{ path: "/*", auth: "required" }] }]);
    const path = uniquePath();
    await script(path, [{ headers: PUBLIC, body: "secret #{count}" }]);
    const token = await sign(key, goodClaims(brim.clock.now()));
    expect((await brim.fetch(path, { token })).headers.get("cache-status")).toContain("stored");
    expect((await brim.fetch(path, { token })).headers.get("cache-status")).toMatch(/^Brim; hit/);
    for (const headers of [{}, { authorization: "Bearer nope" }] as Record<string, string>[]) {
      const res = await brim.fetch(path, { headers });
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain("secret");
    }
    expect(await count(path)).toBe(1);
  });

  it("on an optional route, anonymous requests have their own entries, never the authenticated ones", async () => {
    const key = await signingKey("RS256");
    const brim = testBrim([{ id: "acme", auth: await tenantAuth(key), routes: [{ path: "/*", auth: "optional" }] }]);
    const path = uniquePath();
    await script(path, [{ headers: PUBLIC, body: "for {header:x-user-id} #{count}" }]);
    const token = await sign(key, goodClaims(brim.clock.now(), { sub: "alice" }));
    expect(await (await brim.fetch(path, { token })).text()).toBe("for alice #1");
    expect(await (await brim.fetch(path)).text()).toBe("for  #2");
    expect(await (await brim.fetch(path)).text()).toBe("for  #2");
    expect(await (await brim.fetch(path, { token })).text()).toBe("for alice #1");
    expect(await count(path)).toBe(2);
  });

  it("another tenant never gets a tenant's authenticated entry, even with the same keys and path", async () => {
    const key = await signingKey("RS256");
    const auth = await tenantAuth(key);
    const brim = testBrim([
      { id: "acme", auth, routes: [{ path: "/*", auth: "required" }] },
      { id: "globex", auth, routes: [{ path: "/*", auth: "required" }] },
    ]);
    const path = uniquePath();
    await script(path, [{ headers: PUBLIC, body: "#{count}" }]);
    const token = await sign(key, goodClaims(brim.clock.now()));
    expect(await (await brim.fetch(path, { token, host: "acme.test" })).text()).toBe("#1");
    expect(await (await brim.fetch(path, { token, host: "globex.test" })).text()).toBe("#2");
    expect(await (await brim.fetch(path, { token, host: "acme.test" })).text()).toBe("#1");
  });

  it("a token revoked after its response was cached no longer gets it", async () => {
    const key = await signingKey("RS256");
    const server = await revocationServer();
    const brim = testBrim([
      {
        id: "acme",
        auth: await tenantAuth(key, { revocation: { url: server.url } }),
        admin: { tokenEnv: ADMIN_TOKEN_ENV },
        routes: [{ path: "/*", auth: "required" }],
      },
    ]);
    const path = uniquePath();
    await script(path, [{ headers: PUBLIC, body: "x" }]);
    const token = await sign(key, goodClaims(brim.clock.now(), { jti: "to-revoke" }));
    expect((await brim.fetch(path, { token })).status).toBe(200);
    expect((await brim.fetch(path, { token })).headers.get("cache-status")).toMatch(/^Brim; hit/);
    const push = await brim.fetch("/__brim/revocations", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: '{"jti":["to-revoke"]}',
    });
    expect(push.status).toBe(200);
    expect((await brim.fetch(path, { token })).status).toBe(401);
  });
});

describe("which authenticated responses are shared", () => {
  it("token forwarded in Authorization: only public / s-maxage responses are stored (RFC 9111 §3.5)", async () => {
    const key = await signingKey("ES256");
    const brim = testBrim([{ id: "acme", auth: await tenantAuth(key), routes: [{ path: "/*", auth: "required" }] }]);
    const alice = await sign(key, goodClaims(brim.clock.now(), { sub: "alice" }));
    const bob = await sign(key, goodClaims(brim.clock.now(), { sub: "bob" }));
    const personal = uniquePath();
    await script(personal, [{ headers: PLAIN, body: "for {header:x-user-id}" }]);
    const first = await brim.fetch(personal, { token: alice });
    expect(first.headers.get("cache-status")).toContain("not-stored-authorization");
    expect(await (await brim.fetch(personal, { token: bob })).text()).toBe("for bob");
    expect(await count(personal)).toBe(2);

    const shared = uniquePath();
    await script(shared, [{ headers: PUBLIC, body: "catalog #{count}" }]);
    expect(await (await brim.fetch(shared, { token: alice })).text()).toBe("catalog #1");
    expect(await (await brim.fetch(shared, { token: bob })).text()).toBe("catalog #1");
    expect(await count(shared)).toBe(1);
  });

  it("a claims-keyed route stores one entry per claim value, reused for that value only, and never sends the token", async () => {
    const key = await signingKey("RS256");
    // Only the keyed claim is forwarded: a forwarded claim outside the key is refused at load.
    const brim = testBrim([
      {
        id: "acme",
        auth: await tenantAuth(key, { forward: { claims: { org: "x-org-id" } } }),
        routes: [{ path: "/*", auth: "required", cache: { key: { claims: ["org"] } } }],
      },
    ]);
    const path = uniquePath();
    await script(path, [{ headers: PLAIN, body: "org {header:x-org-id} #{count}" }]);
    const token = (sub: string, org: string) => sign(key, goodClaims(brim.clock.now(), { sub, org }));
    expect(await (await brim.fetch(path, { token: await token("alice", "o1") })).text()).toBe("org o1 #1");
    const bob = await brim.fetch(path, { token: await token("bob", "o1") });
    expect(await bob.text()).toBe("org o1 #1");
    expect(bob.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await (await brim.fetch(path, { token: await token("carol", "o2") })).text()).toBe("org o2 #2");
    expect(await count(path)).toBe(2);
    const seen = (await requests(path)).requests;
    expect(seen.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it("a claims-keyed route keys on the value, so a missing claim is its own entry", async () => {
    const key = await signingKey("RS256");
    const brim = testBrim([
      {
        id: "acme",
        auth: await tenantAuth(key, { forward: { claims: { org: "x-org-id" } } }),
        routes: [{ path: "/*", auth: "required", cache: { key: { claims: ["org"] } } }],
      },
    ]);
    const path = uniquePath();
    await script(path, [{ headers: PLAIN, body: "#{count}" }]);
    expect(await (await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now(), { org: "o1" })) })).text()).toBe("#1");
    expect(await (await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now())) })).text()).toBe("#2");
    expect(await (await brim.fetch(path, { token: await sign(key, goodClaims(brim.clock.now(), { org: null })) })).text()).toBe("#2");
  });

  it("with stripAuthorization, entries are keyed on the forwarded claims the origin sees", async () => {
    const key = await signingKey("RS256");
    const brim = testBrim([
      {
        id: "acme",
        auth: await tenantAuth(key, { forward: { claims: { sub: "x-user-id" }, stripAuthorization: true } }),
        routes: [{ path: "/*", auth: "required" }],
      },
    ]);
    const path = uniquePath();
    await script(path, [{ headers: PLAIN, body: "for {header:x-user-id} #{count}" }]);
    const as = (sub: string) => sign(key, goodClaims(brim.clock.now(), { sub }));
    expect(await (await brim.fetch(path, { token: await as("alice") })).text()).toBe("for alice #1");
    expect(await (await brim.fetch(path, { token: await as("alice") })).text()).toBe("for alice #1");
    expect(await (await brim.fetch(path, { token: await as("bob") })).text()).toBe("for bob #2");
    expect(await count(path)).toBe(2);
  });

  it("a token forwarded in a cookie bypasses the cache (it cannot tell the cookie is a credential)", async () => {
    const key = await signingKey("RS256");
    const brim = testBrim([
      { id: "acme", auth: await tenantAuth(key, { token: { cookie: "session" } }), routes: [{ path: "/*", auth: "required" }] },
    ]);
    const path = uniquePath();
    await script(path, [{ headers: PUBLIC, body: "#{count}" }]);
    const cookie = `session=${await sign(key, goodClaims(brim.clock.now()))}`;
    const res = await brim.fetch(path, { headers: { cookie } });
    expect(res.headers.get("cache-status")).toContain("detail=credentials");
    await brim.fetch(path, { headers: { cookie } });
    expect(await count(path)).toBe(2);
  });
});
