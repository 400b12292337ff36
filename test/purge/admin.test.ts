/**
 * The admin API around purge: the tenant's admin token or nothing happens (401), malformed
 * bodies are refused naming the problem (400), and a tenant can only reach its own content.
 * Tenant b's admin token is a different Worker secret (vitest.config.ts binds TEST_JWT_SECRET,
 * reused here as a second token), so one tenant's token never works on the other's host.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { testBrim } from "../support/brim";
import { count, script, uniquePath } from "../support/origin";
import { ADMIN_TOKEN, cacheStatus, expectHit, purge, uniqueTenant } from "./support";

const ROUTES = [{ path: "/*", cache: {} }];
const B_TOKEN_ENV = "TEST_JWT_SECRET";
const B_TOKEN = (env as unknown as Record<string, string>)[B_TOKEN_ENV] ?? "";

async function setup() {
  const a = uniqueTenant("a");
  const b = uniqueTenant("b");
  const brim = testBrim({ [a]: ROUTES, [b]: ROUTES }, { purge: true, adminTokenEnvs: { [b]: B_TOKEN_ENV } });
  const path = uniquePath();
  await script(path, [{ headers: { "cache-control": "max-age=600" }, body: "v{count}" }]);
  for (const host of [`${a}.test`, `${b}.test`]) {
    await brim.fetch(path, { host });
    await expectHit(brim, path, host);
  }
  return { brim, path, a: `${a}.test`, b: `${b}.test` };
}

describe("admin token", () => {
  it.each([
    ["missing", null],
    ["wrong", "not-the-token"],
    ["the other tenant's", "B"],
  ])("%s token: 401 with WWW-Authenticate, nothing purged", async (_name, token) => {
    const { brim, path, a } = await setup();
    const res = await purge(brim, a, { all: true }, token === "B" ? B_TOKEN : token);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);
    await expectHit(brim, path, a);
  });

  it("each tenant's own token works on its own host only", async () => {
    const { brim, path, a, b } = await setup();
    expect((await purge(brim, b, { all: true }, ADMIN_TOKEN)).status).toBe(401);
    expect((await purge(brim, b, { all: true }, B_TOKEN)).status).toBe(200);
    expect((await cacheStatus(brim, path, b)).status).toMatch(/detail=purged$/);
    await expectHit(brim, path, a);
  });
});

describe("malformed bodies: 400 naming the problem, nothing purged", () => {
  const cases: [string, unknown, RegExp][] = [
    ["not JSON", "{urls:", /invalid JSON/],
    ["not an object", [1, 2], /expected a JSON object/],
    ["empty", {}, /nothing to purge/],
    ["unknown field", { url: ["/x"] }, /^url: unknown field/],
    ["urls not a list", { urls: "/x" }, /^urls: expected a list/],
    ["empty string", { tags: [""] }, /^tags: expected a list of non-empty strings/],
    ["bad tag", { tags: ["a b"] }, /^tags\[0\]: expected a tag without spaces/],
    ["relative prefix", { prefixes: ["api/"] }, /^prefixes\[0\]: expected a path/],
    ["all not true", { all: false }, /^all: expected true/],
    ["soft not boolean", { all: true, soft: "yes" }, /^soft: expected a boolean/],
    ["another tenant's host", { urls: ["http://other.test/x"] }, /^urls\[0\]: host other.test is not one of this tenant's hosts/],
  ];
  it.each(cases)("%s", async (_name, body, problem) => {
    const { brim, path, a } = await setup();
    const res = await purge(brim, a, body);
    expect(res.status).toBe(400);
    const answer = await res.json<{ ok: boolean; problem: string }>();
    expect(answer.ok).toBe(false);
    expect(answer.problem).toMatch(problem);
    await expectHit(brim, path, a);
  });

  it("a URL on the other tenant's host is refused", async () => {
    const { brim, path, a, b } = await setup();
    const res = await purge(brim, a, { urls: [`http://${b}${path}`] });
    expect(res.status).toBe(400);
    await expectHit(brim, path, b);
  });
});

describe("/__brim/* is Brim's own", () => {
  it("wrong method 405, unknown endpoint 404, never proxied or cached", async () => {
    const { brim, a } = await setup();
    const get = await brim.fetch("/__brim/purge", { host: a, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const unknown = await brim.fetch("/__brim/nope", { host: a, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("cache-status")).toBeNull();
    expect(await count("/__brim/purge")).toBe(0);
    expect(await count("/__brim/nope")).toBe(0);
  });
});

describe("the admin sub-app (hono/bearer-auth, hono/body-limit)", () => {
  it("a non-Bearer Authorization is a 401 with the tenant's challenge, like a missing one", async () => {
    const { brim, path, a } = await setup();
    const res = await brim.fetch("/__brim/purge", {
      host: a,
      method: "POST",
      headers: { authorization: "Basic dXNlcjpwYXNz" },
      body: JSON.stringify({ all: true }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(`Bearer realm="${a.slice(0, -".test".length)} admin"`);
    expect(brim.logs.some((log) => log.event === "admin-unauthorized")).toBe(true);
    await expectHit(brim, path, a);
  });

  it("a body past the limit is 413 in the one JSON error shape, nothing purged", async () => {
    const { brim, path, a } = await setup();
    const huge = JSON.stringify({ urls: Array.from({ length: 40_000 }, (_, i) => `/x/${i}/${"y".repeat(20)}`) });
    const res = await purge(brim, a, huge);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      ok: false,
      error: "ADMIN_BODY_TOO_LARGE",
      problem: expect.stringMatching(/^body exceeds \d+ bytes$/),
    });
    await expectHit(brim, path, a);
  });

  it("every 400 has the same JSON shape (revocations too)", async () => {
    const { brim, a } = await setup();
    const res = await brim.fetch("/__brim/revocations", {
      host: a,
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: "{",
    });
    // This tenant has no revocation list: the endpoint does not exist for it.
    expect(res.status).toBe(404);
    const bad = await purge(brim, a, "{");
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toBe("application/json");
    expect(await bad.json()).toEqual({ ok: false, error: "ADMIN_BAD_REQUEST", problem: expect.stringMatching(/^invalid JSON/) });
  });
});
