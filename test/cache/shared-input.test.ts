/**
 * No unkeyed request input can shape a shared response (issue #11 §2). Each attack is a
 * request that fills (or refreshes) the cache with a header the origin reflects into the body;
 * a clean request from another client afterwards must not see the attacker's input. The
 * origin is real (test/support/origin-server.ts) and its request log shows what reached it.
 */
import { describe, expect, it } from "vitest";
import { OVERRIDE_REQUEST_HEADERS } from "../../src/constants";
import { testBrim, type RawRoute, type TestBrim } from "../support/brim";
import { count, requests, script, uniquePath } from "../support/origin";

const EVIL = "evil.example";
const FRESH = { "cache-control": "max-age=60", "content-type": "text/plain" };
const CACHED: RawRoute = { path: "/*", cache: {} };
const PASS: RawRoute = { path: "/*", cache: false };
/** Request fields the runtime sets on a `cache: "no-store"` fetch (the Fetch standard). */
const RUNTIME_NO_STORE_FIELDS = new Set(["cache-control", "pragma"]);

/** Whether any request the origin got for `path` carried `EVIL` in any header. */
async function originSawEvil(path: string): Promise<boolean> {
  return (await requests(path)).requests.some((r) => Object.values(r.headers).some((v) => v.includes(EVIL)));
}

/** The attacker's request, then a clean one from another client; both bodies and the victim's Cache-Status. */
async function attackThenVictim(brim: TestBrim, path: string, attack: Record<string, string>, clean: Record<string, string> = {}) {
  const attacker = await brim.fetch(path, { headers: attack });
  const attackerBody = await attacker.text();
  const victim = await brim.fetch(path, { headers: clean });
  return { attackerBody, victimBody: await victim.text(), victimStatus: victim.headers.get("cache-status") ?? "" };
}

describe("host, URL, method, scheme and address overrides never reach the origin", () => {
  const OVERRIDES = [
    ...OVERRIDE_REQUEST_HEADERS,
    "x-forwarded-host",
    "x-forwarded-scheme",
    "x-forwarded-port",
    "x-forwarded-prefix",
    "x-forwarded-ssl",
  ];

  it.each(OVERRIDES)("%s on a cacheable route: not forwarded, and the next client gets a clean hit", async (name) => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: `[{header:${name}}]` }]);
    const { attackerBody, victimBody, victimStatus } = await attackThenVictim(brim, path, { [name]: EVIL });
    expect(attackerBody).not.toContain(EVIL);
    expect(victimStatus).toMatch(/^Brim; hit/);
    expect(victimBody).toBe(attackerBody);
    expect(await originSawEvil(path)).toBe(false);
  });

  it.each(OVERRIDES)("%s on an uncached route and on a POST: removed too", async (name) => {
    const brim = testBrim({ acme: [{ path: "/pass/*", cache: false }, CACHED] });
    const passPath = `/pass${uniquePath()}`;
    const postPath = uniquePath();
    await brim.fetch(passPath, { headers: { [name]: EVIL } });
    await brim.fetch(postPath, { method: "POST", body: "x", headers: { [name]: EVIL } });
    expect(await originSawEvil(passPath)).toBe(false);
    expect(await originSawEvil(postPath)).toBe(false);
  });
});

describe("on cacheable routes, unkeyed headers are not forwarded", () => {
  it.each([
    ["user-agent", "EvilBot/1.0 evil.example"],
    ["origin", `https://${EVIL}`],
    ["referer", `https://${EVIL}/`],
    ["x-api-version", EVIL],
    ["x-device", EVIL],
    ["x-user-id", EVIL],
    ["cache-control", `max-stale, ${EVIL}`],
    ["pragma", EVIL],
    ["content-type", `text/${EVIL}`],
  ])("%s: the next client gets a clean hit", async (name, value) => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: `[{header:${name}}] #{count}` }]);
    const { attackerBody, victimBody, victimStatus } = await attackThenVictim(brim, path, { [name]: value });
    // Cache fills are fetched with `cache: "no-store"` (docs/caching.md), for which the runtime
    // itself sends `Cache-Control: no-cache` and `Pragma: no-cache`: the origin sees those, never the client's.
    const reflected = RUNTIME_NO_STORE_FIELDS.has(name) ? "[no-cache] #1" : "[] #1";
    expect(attackerBody).toBe(reflected);
    expect(victimStatus).toMatch(/^Brim; hit/);
    expect(victimBody).toBe(reflected);
    expect(await originSawEvil(path)).toBe(false);
  });

  it("the same header still reaches the origin on an uncached route (proxied as sent)", async () => {
    const brim = testBrim({ acme: [PASS] });
    const path = uniquePath();
    await script(path, [{ body: "[{header:x-api-version}]" }]);
    expect(await (await brim.fetch(path, { headers: { "x-api-version": "2" } })).text()).toBe("[2]");
  });

  it("a coalesced burst: whoever leads the shared fetch, no waiter sees the attacker's headers", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "[{header:x-evil}][{header:x-original-url}]", delayMs: 200 }]);
    const attack = { "x-evil": EVIL, "x-original-url": `/${EVIL}` };
    const bodies = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => (await brim.fetch(path, { headers: i % 2 === 0 ? attack : {} })).text()),
    );
    expect(new Set(bodies)).toStrictEqual(new Set(["[][]"]));
    expect(await originSawEvil(path)).toBe(false);
  });

  it("a revalidation triggered by the attacker stores nothing of the attacker's", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    const validated = { "cache-control": "no-cache", etag: '"e{count}"' };
    await script(path, [
      { headers: validated, body: "clean #{count}" },
      { headers: validated, body: "[{header:x-evil}] #{count}" },
      { status: 304, headers: { ...validated, etag: '"e2"' } },
    ]);
    await brim.fetch(path);
    const { attackerBody, victimBody, victimStatus } = await attackThenVictim(brim, path, { "x-evil": EVIL });
    expect(attackerBody).toBe("[] #2");
    expect(victimStatus).toMatch(/^Brim; fwd=stale; fwd-status=304/);
    expect(victimBody).toBe("[] #2");
    expect((await requests(path)).requests[1]?.headers["if-none-match"]).toBe('"e1"');
    expect(await originSawEvil(path)).toBe(false);
  });

  it("a HEAD miss fills the cache with a GET that forwards nothing unkeyed either", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "[{header:x-evil}]" }]);
    await brim.fetch(path, { method: "HEAD", headers: { "x-evil": EVIL } });
    const victim = await brim.fetch(path);
    expect(victim.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await victim.text()).toBe("[]");
  });
});

describe("what is forwarded is keyed, or declared unused by the origin", () => {
  it.each([
    ["key.headers", { key: { headers: ["x-device"] } }, "x-device", {}, "uri-miss"],
    ["Vary: Accept-Language", {}, "accept-language", { vary: "accept-language" }, "vary-miss"],
    ["Vary: Accept", {}, "accept", { vary: "accept" }, "vary-miss"],
  ] as const)("%s: forwarded, and another client with another value gets its own entry", async (_, cache, name, vary, fwd) => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { ...cache, coalesce: false } }] });
    const path = uniquePath();
    await script(path, [{ headers: { ...FRESH, ...vary }, body: `[{header:${name}}] #{count}` }]);
    const { attackerBody, victimBody, victimStatus } = await attackThenVictim(brim, path, { [name]: EVIL }, { [name]: "en" });
    expect(attackerBody).toBe(`[${EVIL}] #1`);
    expect(victimStatus).toBe(`Brim; fwd=${fwd}; fwd-status=200; stored`);
    expect(victimBody).toBe("[en] #2");
    const absent = await brim.fetch(path);
    expect(await absent.text()).toBe("[] #3");
  });

  it("forwardUnkeyed headers reach the origin, and the entry is shared (the tenant's statement)", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { forwardUnkeyed: { "X-Request-Id": "only logged" } } }] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "#{count}" }]);
    await brim.fetch(path, { headers: { "x-request-id": "r-1", "x-other": "o" } });
    const second = await brim.fetch(path, { headers: { "x-request-id": "r-2" } });
    expect(second.headers.get("cache-status")).toMatch(/^Brim; hit/);
    const seen = (await requests(path)).requests[0]!.headers;
    expect(seen["x-request-id"]).toBe("r-1");
    expect(seen).not.toHaveProperty("x-other");
  });
});

describe("an absent request header and an empty one are different key material (RFC 9111 §4.1)", () => {
  it.each([
    ["key.headers", { key: { headers: ["x-device"] } }, "x-device", {}],
    ["Vary", {}, "accept-language", { vary: "accept-language" }],
  ] as const)("%s: absent, empty, absent → two entries", async (_, cache, name, vary) => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { ...cache, coalesce: false } }] });
    const path = uniquePath();
    await script(path, [{ headers: { ...FRESH, ...vary }, body: "#{count}" }]);
    const absent = await brim.fetch(path);
    const empty = await brim.fetch(path, { headers: { [name]: "" } });
    const absentAgain = await brim.fetch(path);
    const emptyAgain = await brim.fetch(path, { headers: { [name]: "" } });
    expect(await Promise.all([absent, empty, absentAgain, emptyAgain].map((r) => r.text()))).toStrictEqual(["#1", "#2", "#1", "#2"]);
    expect(empty.headers.get("cache-status")).not.toMatch(/^Brim; hit/);
    expect(await count(path)).toBe(2);
  });
});

describe("requests with a Cookie on cacheable routes", () => {
  it('default ("bypass"): proxied with the cookie, nothing stored, nothing served from the cache', async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "[{header:cookie}] #{count}" }]);
    const withCookie = await brim.fetch(path, { headers: { cookie: `session=${EVIL}` } });
    expect(withCookie.headers.get("cache-status")).toBe("Brim; fwd=bypass; detail=cookie");
    expect(await withCookie.text()).toBe(`[session=${EVIL}] #1`);
    const victim = await brim.fetch(path);
    expect(victim.headers.get("cache-status")).toBe("Brim; fwd=uri-miss; fwd-status=200; stored");
    expect(await victim.text()).toBe("[] #2");
    // A stored entry is never served to a request with a cookie either: the origin may personalise.
    const again = await brim.fetch(path, { headers: { cookie: "session=other" } });
    expect([again.headers.get("cache-status"), await again.text()]).toStrictEqual([
      "Brim; fwd=bypass; detail=cookie",
      "[session=other] #3",
    ]);
    expect((await brim.fetch(path)).headers.get("cache-status")).toMatch(/^Brim; hit/);
  });

  it('"ignore": the cookie is dropped and the response shared', async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { cookies: "ignore" } }] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "[{header:cookie}] #{count}" }]);
    const { attackerBody, victimBody, victimStatus } = await attackThenVictim(brim, path, { cookie: `session=${EVIL}` });
    expect(attackerBody).toBe("[] #1");
    expect(victimStatus).toMatch(/^Brim; hit/);
    expect(victimBody).toBe("[] #1");
    const cookieHit = await brim.fetch(path, { headers: { cookie: "a=b" } });
    expect(cookieHit.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await originSawEvil(path)).toBe(false);
  });

  it("uncached routes and unsafe methods forward the cookie as today", async () => {
    const brim = testBrim({ acme: [{ path: "/pass/*", cache: false }, CACHED] });
    const passPath = `/pass${uniquePath()}`;
    const postPath = uniquePath();
    await script(passPath, [{ body: "[{header:cookie}]" }]);
    await script(postPath, [{ body: "[{header:cookie}]" }]);
    expect(await (await brim.fetch(passPath, { headers: { cookie: "a=1" } })).text()).toBe("[a=1]");
    const post = await brim.fetch(postPath, { method: "POST", body: "x", headers: { cookie: "a=1" } });
    expect([post.headers.get("cache-status"), await post.text()]).toStrictEqual(["Brim; fwd=method", "[a=1]"]);
  });
});
