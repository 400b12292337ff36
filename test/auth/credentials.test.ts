/**
 * How a request may present its token on an auth route (issue #11 §3): exactly one credential,
 * in the configured header or cookie, never in the URL. A token in the query (RFC 6750 §2.3,
 * §5.3) and two credentials in one request are `400 invalid_request`: never forwarded, never
 * keyed. After every attack, a clean request from another client must not see the attacker's
 * input, and the protected resource is never reachable without a valid token.
 */
import { describe, expect, it } from "vitest";
import { testBrim, type TestBrim } from "../support/brim";
import { count, requests, script, uniquePath } from "../support/origin";
import { authBlock, goodClaims, sign, signingKey, type SigningKey } from "../support/jwt";

/** The origin echoes everything an attacker could try to smuggle through. */
const ECHO = {
  headers: { "cache-control": "public, max-age=60" },
  body: "user={header:x-user-id} q={query} auth={header:authorization} cookie={header:cookie} #{count}",
};

async function setup(): Promise<{ brim: TestBrim; key: SigningKey }> {
  const key = await signingKey("ES256");
  const brim = testBrim([
    {
      id: "acme",
      auth: authBlock({ keys: [key.jwk!] }, { token: { cookie: "session" }, forward: { claims: { sub: "x-user-id" } } }),
      routes: [
        { path: "/required/*", auth: "required" },
        { path: "/optional/*", auth: "optional" },
      ],
    },
  ]);
  return { brim, key };
}

interface Attack {
  /** Query string added to the path (with "?"), or "". */
  readonly query: (token: string) => string;
  /** Headers of the attacker's request; `append` so a header can be sent twice. */
  readonly headers: (token: string) => [string, string][];
}

const bearer = (t: string): [string, string] => ["authorization", `Bearer ${t}`];

/** [name, attack, logged detail (substring)]. `token` is a valid token of the attacker. */
const ATTACKS: [string, Attack, string][] = [
  ["access_token in the query, no header", { query: (t) => `?access_token=${t}`, headers: () => [] }, "access_token in the query"],
  [
    "access_token in the query next to a valid header",
    { query: () => "?a=1&access_token=forged", headers: (t) => [bearer(t)] },
    "access_token in the query",
  ],
  ["empty access_token in the query", { query: () => "?access_token=", headers: (t) => [bearer(t)] }, "access_token in the query"],
  ["percent-encoded access_token name", { query: (t) => `?access%5Ftoken=${t}`, headers: () => [] }, "access_token in the query"],
  ["percent-encoded first letter", { query: (t) => `?x=1&%61ccess_token=${t}`, headers: (t) => [bearer(t)] }, "access_token in the query"],
  [
    "two Authorization fields",
    { query: () => "", headers: (t) => [bearer(t), bearer("forged.token.value")] },
    "more than one credential in authorization",
  ],
  [
    "two credentials in one Authorization field",
    { query: () => "", headers: (t) => [["authorization", `Bearer ${t}, Bearer other.token.value`]] },
    "more than one credential",
  ],
  [
    "Bearer next to Basic",
    { query: () => "", headers: (t) => [["authorization", `Basic dXNlcjpwYXNz, Bearer ${t}`]] },
    "more than one credential",
  ],
  [
    "header and cookie",
    { query: () => "", headers: (t) => [bearer(t), ["cookie", `session=${t}`]] },
    "in authorization and in cookie session",
  ],
  [
    "Basic header and a token cookie",
    {
      query: () => "",
      headers: (t) => [
        ["authorization", "Basic dXNlcjpwYXNz"],
        ["cookie", `session=${t}`],
      ],
    },
    "in authorization and in cookie session",
  ],
  [
    "the token cookie twice",
    { query: () => "", headers: (t) => [["cookie", `session=${t}; theme=dark; session=forged`]] },
    "cookie session sent 2 times",
  ],
];

describe("400 invalid_request, never forwarded, never keyed", () => {
  for (const route of ["required", "optional"] as const) {
    it.each(ATTACKS)(`${route} route: %s`, async (_name, attack, detail) => {
      const { brim, key } = await setup();
      const path = uniquePath(`/${route}`);
      await script(path, [ECHO]);
      const mallory = await sign(key, goodClaims(brim.clock.now(), { sub: "mallory" }));
      const headers = new Headers();
      for (const [name, value] of attack.headers(mallory)) headers.append(name, value);
      const res = await brim.fetch(`${path}${attack.query(mallory)}`, { headers });
      expect(res.status).toBe(400);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="acme", error="invalid_request"');
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(await res.text()).toBe("Bad Request: send exactly one bearer token, and never in the URL\n");
      expect(await count(path)).toBe(0);
      const failure = brim.logs.find((e) => e.event === "auth-failed");
      expect(failure?.reason).toBe("invalid-request");
      expect(String(failure?.detail)).toContain(detail);
      expect(JSON.stringify(brim.logs)).not.toContain(mallory.split(".")[1]);

      // A clean request from another client afterwards: its own answer, nothing of Mallory's.
      const bob = await sign(key, goodClaims(brim.clock.now(), { sub: "bob" }));
      const clean = await brim.fetch(`${path}?a=1`, { token: bob });
      expect(clean.status).toBe(200);
      const body = await clean.text();
      expect(body).toMatch(/^user=bob q=a=1 /);
      expect(body).not.toContain("mallory");
      expect(body).not.toContain("forged");
      expect(body).not.toContain(mallory.split(".")[1]);
      // Without a valid token the resource stays closed (required) or anonymous (optional).
      const anonymous = await brim.fetch(`${path}?a=1`);
      if (route === "required") expect(anonymous.status).toBe(401);
      else expect(await anonymous.text()).toMatch(/^user= q=a=1 auth= cookie= #2$/);
      expect(
        (await requests(path)).requests.every((r) => !r.url.includes("access_token") && !(r.headers.authorization ?? "").includes(mallory)),
      ).toBe(true);
    });
  }
});

describe("what is still one credential", () => {
  it.each([
    ["a token in the header", (t: string) => ({ authorization: `Bearer ${t}` })],
    ["a token in the cookie, other cookies beside it", (t: string) => ({ cookie: `theme=dark; session=${t}` })],
    [
      "a query parameter that only contains the name",
      (t: string) => ({ authorization: `Bearer ${t}`, "x-query": "?my_access_token_hint=1" }),
    ],
  ])("%s passes", async (_name, headersFor) => {
    const { brim, key } = await setup();
    const path = uniquePath("/required");
    await script(path, [ECHO]);
    const token = await sign(key, goodClaims(brim.clock.now(), { sub: "alice" }));
    const { "x-query": query = "", ...headers } = headersFor(token) as Record<string, string>;
    const res = await brim.fetch(`${path}${query}`, { headers });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^user=alice /);
  });

  it("access_token on a route without auth is not Brim's concern (passed through)", async () => {
    const key = await signingKey("ES256");
    const brim = testBrim([{ id: "acme", auth: authBlock({ keys: [key.jwk!] }), routes: [{ path: "/*", cache: false }] }]);
    const path = uniquePath();
    expect((await brim.fetch(`${path}?access_token=x`)).status).toBe(200);
  });
});
