/**
 * What the origin's response directives (RFC 9111 §5.2.2, RFC 9213) and the client's request
 * directives (RFC 9111 §5.2.1) and conditionals (RFC 9110 §13) make Brim store and serve.
 *
 * Brim's clock only moves on `brim.clock.advance`; specs fetched after an advance carry a
 * `Date` from that clock (`dated`), so the origin's real Date does not make them look old.
 */
import { describe, expect, it } from "vitest";
import { formatHttpDate } from "../../src/http/http-date";
import { testBrim, type TestBrim } from "../support/brim";
import { count, requests, script, uniquePath, type ResponseSpec } from "../support/origin";

const CACHED = { path: "/*", cache: {} };
const MISS_STORED = "Brim; fwd=uri-miss; fwd-status=200; stored";

function dated(brim: TestBrim, spec: ResponseSpec): ResponseSpec {
  return { ...spec, headers: { date: formatHttpDate(brim.clock.now()), ...spec.headers } };
}

function cacheStatus(res: Response): string | null {
  return res.headers.get("cache-status");
}

/** Fetches `path` and checks body and Cache-Status; returns the response. */
async function expectServed(brim: TestBrim, path: string, body: string, status: string | RegExp, init?: RequestInit): Promise<Response> {
  const res = await brim.fetch(path, init);
  expect(await res.text()).toBe(body);
  if (typeof status === "string") expect(cacheStatus(res)).toBe(status);
  else expect(cacheStatus(res)).toMatch(status);
  return res;
}

describe("responses that are not stored (RFC 9111 §3)", () => {
  it.each([
    ["no-store", { "cache-control": "no-store, max-age=60" }, "no-store"],
    ["private", { "cache-control": "private, max-age=60" }, "private"],
    ["Set-Cookie", { "cache-control": "max-age=60", "set-cookie": "session=abc" }, "set-cookie"],
    ["Vary: *", { "cache-control": "max-age=60", vary: "*" }, "vary-star"],
    ["NO-STORE in upper case", { "cache-control": "NO-STORE, max-age=60" }, "no-store"],
    ["Private in mixed case", { "cache-control": "Private, Max-Age=60" }, "private"],
  ])("%s: every request goes to the origin", async (_, headers, reason) => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers, body: "v{count}" }]);
    await expectServed(brim, path, "v1", `Brim; fwd=uri-miss; fwd-status=200; detail=not-stored-${reason}`);
    await expectServed(brim, path, "v2", `Brim; fwd=uri-miss; fwd-status=200; detail=not-stored-${reason}`);
    expect(await count(path)).toBe(2);
  });
});

describe("qualified private / no-cache: stored without the named fields (RFC 9111 §5.2.2.4, §5.2.2.7)", () => {
  it.each([
    ['private="x-user-token"', "x-user-token"],
    ['no-cache="x-user-token"', "x-user-token"],
    ['private="X-User-Token, x-other"', "x-user-token"],
  ])("%s", async (directive, field) => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [
      { headers: { "cache-control": `max-age=60, ${directive}`, "x-user-token": "secret-{count}", "x-public": "p" }, body: "v{count}" },
    ]);
    const first = await expectServed(brim, path, "v1", MISS_STORED);
    // The response to the request that fetched it is the origin's, whole.
    expect(first.headers.get(field)).toBe("secret-1");
    const hit = await expectServed(brim, path, "v1", "Brim; hit; ttl=60");
    expect(hit.headers.get(field)).toBeNull();
    expect(hit.headers.get("x-public")).toBe("p");
    expect(await count(path)).toBe(1);
  });

  it.each(['private="set-cookie"', 'no-cache="Set-Cookie"'])("%s: the response is stored, the cookie is not", async (directive) => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": `max-age=60, ${directive}`, "set-cookie": "session=s{count}" }, body: "v{count}" }]);
    const first = await expectServed(brim, path, "v1", MISS_STORED);
    expect(first.headers.get("set-cookie")).toBe("session=s1");
    const hit = await expectServed(brim, path, "v1", "Brim; hit; ttl=60");
    expect(hit.headers.get("set-cookie")).toBeNull();
    expect(await count(path)).toBe(1);
  });

  it("a named field that arrives on a 304 is not stored either", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    const spec = (): ResponseSpec =>
      dated(brim, {
        headers: { "cache-control": 'max-age=10, private="x-user-token"', etag: '"e1"', "x-user-token": "secret-{count}" },
        body: "v{count}",
      });
    await script(path, [spec()]);
    await brim.fetch(path);
    brim.clock.advance(15);
    await script(path, [spec()]);
    const revalidated = await expectServed(brim, path, "v1", "Brim; fwd=stale; fwd-status=304; ttl=10");
    expect(revalidated.headers.get("x-user-token")).toBe("secret-2");
    const hit = await expectServed(brim, path, "v1", "Brim; hit; ttl=10");
    expect(hit.headers.get("x-user-token")).toBeNull();
    expect(await count(path)).toBe(2);
  });
});

describe("Vary (RFC 9111 §4.1)", () => {
  it("keeps one entry per Accept-Language value; an unseen value is a vary-miss", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [
      { headers: { "cache-control": "max-age=60", vary: "Accept-Language" }, body: "{header:accept-language} #{count}" },
    ]);
    const en = { headers: { "accept-language": "en" } };
    const fr = { headers: { "accept-language": "fr" } };
    const enFirst = await expectServed(brim, path, "en #1", MISS_STORED, en);
    expect(enFirst.headers.get("vary")).toBe("Accept-Language");
    await expectServed(brim, path, "fr #2", "Brim; fwd=vary-miss; fwd-status=200; stored", fr);
    const enHit = await expectServed(brim, path, "en #1", "Brim; hit; ttl=60", en);
    expect(enHit.headers.get("vary")).toBe("Accept-Language");
    await expectServed(brim, path, "fr #2", "Brim; hit; ttl=60", fr);
    await expectServed(brim, path, "de #3", "Brim; fwd=vary-miss; fwd-status=200; stored", { headers: { "accept-language": "de" } });
    expect(await count(path)).toBe(3);
  });
});

describe("freshness lifetime (RFC 9111 §4.2.1)", () => {
  it("s-maxage beats max-age, in both directions", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const longer = uniquePath();
    const shorter = uniquePath();
    await script(longer, [{ headers: { "cache-control": "max-age=10, s-maxage=100" }, body: "l{count}" }]);
    await script(shorter, [{ headers: { "cache-control": "max-age=100, s-maxage=10" }, body: "s{count}" }]);
    await brim.fetch(longer);
    await brim.fetch(shorter);
    brim.clock.advance(50);
    await expectServed(brim, longer, "l1", "Brim; hit; ttl=50");
    await expectServed(brim, shorter, "s2", "Brim; fwd=stale; fwd-status=200; stored");
  });

  it("without max-age, Expires minus Date is the lifetime", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    const now = brim.clock.now();
    await script(path, [{ headers: { date: formatHttpDate(now), expires: formatHttpDate(now + 30_000) }, body: "v{count}" }]);
    await expectServed(brim, path, "v1", MISS_STORED);
    brim.clock.advance(20);
    await expectServed(brim, path, "v1", "Brim; hit; ttl=10");
    brim.clock.advance(15);
    await expectServed(brim, path, "v2", "Brim; fwd=stale; fwd-status=200; stored");
  });

  it("max-age beats Expires", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60", expires: "Thu, 01 Jan 1970 00:00:00 GMT" }, body: "v{count}" }]);
    await brim.fetch(path);
    brim.clock.advance(30);
    await expectServed(brim, path, "v1", "Brim; hit; ttl=30");
  });

  it.each(["max-age=abc", "max-age=-5", "max-age=1.5", "max-age"])(
    "an invalid `%s` is stale at once, even with a route ttl",
    async (cc) => {
      const brim = testBrim({ acme: [{ path: "/*", cache: { ttl: 60 } }] });
      const path = uniquePath();
      await script(path, [{ headers: { "cache-control": cc, etag: '"e1"' }, body: "v{count}" }]);
      // Stored only to be revalidated (it has a validator), never served without validation.
      await expectServed(brim, path, "v1", MISS_STORED);
      await expectServed(brim, path, "v1", "Brim; fwd=stale; fwd-status=304; ttl=0");
      const log = await requests(path);
      expect(log.count).toBe(2);
      expect(log.requests[1]?.headers["if-none-match"]).toBe('"e1"');
    },
  );

  it("an invalid Expires means already expired (RFC 9111 §5.3), even with a route ttl", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { ttl: 60 } }] });
    const path = uniquePath();
    await script(path, [{ headers: { expires: "0" }, body: "v{count}" }]);
    await expectServed(brim, path, "v1", "Brim; fwd=uri-miss; fwd-status=200; detail=not-stored-no-freshness");
    await expectServed(brim, path, "v2", "Brim; fwd=uri-miss; fwd-status=200; detail=not-stored-no-freshness");
  });

  it("directive names are case-insensitive", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "PUBLIC, MAX-AGE=60" }, body: "v{count}" }]);
    await expectServed(brim, path, "v1", MISS_STORED);
    brim.clock.advance(10);
    await expectServed(brim, path, "v1", "Brim; hit; ttl=50");
  });

  it("the origin's Age counts toward the entry's age: Age 50 with max-age=60 is stale after 10 s", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60", age: "50" }, body: "v{count}" }]);
    await expectServed(brim, path, "v1", MISS_STORED);
    brim.clock.advance(9);
    const hit = await expectServed(brim, path, "v1", "Brim; hit; ttl=1");
    expect(hit.headers.get("age")).toBe("59");
    brim.clock.advance(2);
    await expectServed(brim, path, "v2", "Brim; fwd=stale; fwd-status=200; stored");
  });
});

describe("CDN-Cache-Control (RFC 9213)", () => {
  it("a valid one replaces Cache-Control for Brim: no-store in Cache-Control is cached", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "no-store", "cdn-cache-control": "max-age=60" }, body: "v{count}" }]);
    await expectServed(brim, path, "v1", MISS_STORED);
    brim.clock.advance(10);
    const hit = await expectServed(brim, path, "v1", "Brim; hit; ttl=50");
    // Downstream caches and browsers still get the origin's Cache-Control.
    expect(hit.headers.get("cache-control")).toBe("no-store");
  });

  it("a valid one forbids storing what Cache-Control allows", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60", "cdn-cache-control": "no-store" }, body: "v{count}" }]);
    await expectServed(brim, path, "v1", "Brim; fwd=uri-miss; fwd-status=200; detail=not-stored-no-store");
    await expectServed(brim, path, "v2", "Brim; fwd=uri-miss; fwd-status=200; detail=not-stored-no-store");
  });

  it("an invalid one (not a structured-field dictionary) is ignored entirely", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60", "cdn-cache-control": "no-store, max-age=@" }, body: "v{count}" }]);
    await expectServed(brim, path, "v1", MISS_STORED);
    await expectServed(brim, path, "v1", "Brim; hit; ttl=60");
  });
});

describe("requests with Authorization (RFC 9111 §3.5)", () => {
  const AUTH = { headers: { authorization: "Bearer t" } };

  it("are not answered from a stored response that is not marked shareable for them", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "v{count} {header:authorization}" }]);
    await expectServed(brim, path, "v1 ", MISS_STORED);
    await expectServed(brim, path, "v2 Bearer t", "Brim; fwd=request; fwd-status=200; detail=authorization", AUTH);
    // Nor did their response replace the shared one.
    await expectServed(brim, path, "v1 ", "Brim; hit; ttl=60");
    expect(await count(path)).toBe(2);
  });

  it.each(["public, max-age=60", "s-maxage=60", "max-age=60, must-revalidate"])("are answered from a stored `%s` response", async (cc) => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": cc }, body: "v{count}" }]);
    await brim.fetch(path);
    await expectServed(brim, path, "v1", "Brim; hit; ttl=60", AUTH);
    expect(await count(path)).toBe(1);
  });

  it("their response is not stored unless marked public / s-maxage / must-revalidate", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const plain = uniquePath();
    const pub = uniquePath();
    await script(plain, [{ headers: { "cache-control": "max-age=60" }, body: "v{count}" }]);
    await script(pub, [{ headers: { "cache-control": "public, max-age=60" }, body: "v{count}" }]);
    await expectServed(brim, plain, "v1", "Brim; fwd=uri-miss; fwd-status=200; detail=not-stored-authorization", AUTH);
    await expectServed(brim, plain, "v2", MISS_STORED);
    await expectServed(brim, pub, "v1", MISS_STORED, AUTH);
    await expectServed(brim, pub, "v1", "Brim; hit; ttl=60");
  });
});

describe("request directives (RFC 9111 §5.2.1)", () => {
  /** Stores v1 (max-age=60, ETag "e1"), then moves the clock `seconds` on and re-dates the origin. */
  async function stored(brim: TestBrim, path: string, seconds: number, cc = "max-age=60"): Promise<void> {
    await script(path, [dated(brim, { headers: { "cache-control": cc, etag: '"e1"' }, body: "v{count}" })]);
    await expectServed(brim, path, "v1", MISS_STORED);
    brim.clock.advance(seconds);
    await script(path, [dated(brim, { headers: { "cache-control": cc, etag: '"e1"' }, body: "v{count}" })]);
  }

  it.each(["no-cache", "max-age=0", "max-age=10", "min-fresh=50"])(
    "`%s` on a fresh entry forces validation with the origin",
    async (cc) => {
      const brim = testBrim({ acme: [CACHED] });
      const path = uniquePath();
      await stored(brim, path, 20);
      await expectServed(brim, path, "v1", "Brim; fwd=request; fwd-status=304; ttl=60", { headers: { "cache-control": cc } });
      const log = await requests(path);
      expect(log.count).toBe(2);
      expect(log.requests[1]?.headers["if-none-match"]).toBe('"e1"');
    },
  );

  it.each(["max-age=30", "min-fresh=30"])("`%s` that the entry satisfies is a hit", async (cc) => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await stored(brim, path, 20);
    await expectServed(brim, path, "v1", "Brim; hit; ttl=40", { headers: { "cache-control": cc } });
    expect(await count(path)).toBe(1);
  });

  it("no-cache without a validator fetches the whole response again and stores it", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "v{count}" }]);
    await brim.fetch(path);
    brim.clock.advance(5);
    await expectServed(brim, path, "v2", "Brim; fwd=request; fwd-status=200; stored", { headers: { "cache-control": "no-cache" } });
    await expectServed(brim, path, "v2", /^Brim; hit; ttl=/);
  });

  it("max-stale allows serving a stale entry, within its bound", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await stored(brim, path, 70);
    await expectServed(brim, path, "v1", "Brim; hit; ttl=-10; detail=max-stale", { headers: { "cache-control": "max-stale=10" } });
    await expectServed(brim, path, "v1", "Brim; hit; ttl=-10; detail=max-stale", { headers: { "cache-control": "max-stale" } });
    expect(await count(path)).toBe(1);
    await expectServed(brim, path, "v1", "Brim; fwd=stale; fwd-status=304; ttl=60", { headers: { "cache-control": "max-stale=5" } });
    expect(await count(path)).toBe(2);
  });

  it("only-if-cached: 504 on a miss (and on a stale entry), without asking the origin; a hit is served", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    const onlyIfCached = { headers: { "cache-control": "only-if-cached" } };
    const miss = await brim.fetch(path, onlyIfCached);
    expect(miss.status).toBe(504);
    expect(await miss.text()).toBe("Gateway Timeout: not in cache (only-if-cached)\n");
    expect(cacheStatus(miss)).toBe("Brim; detail=only-if-cached");
    expect(await count(path)).toBe(0);

    await stored(brim, path, 10);
    await expectServed(brim, path, "v1", "Brim; hit; ttl=50", onlyIfCached);
    brim.clock.advance(60);
    const stale = await brim.fetch(path, onlyIfCached);
    expect(stale.status).toBe(504);
    expect(cacheStatus(stale)).toBe("Brim; detail=only-if-cached");
    expect(await count(path)).toBe(1);
  });

  it("no-store on the request: its response is not stored", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "v{count}" }]);
    await expectServed(brim, path, "v1", "Brim; fwd=uri-miss; fwd-status=200; detail=not-stored-request-no-store", {
      headers: { "cache-control": "no-store" },
    });
    await expectServed(brim, path, "v2", MISS_STORED);
    expect(await count(path)).toBe(2);
  });

  it("a route with ignoreRequestDirectives ignores them all", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { ignoreRequestDirectives: true } }] });
    const path = uniquePath();
    const missPath = uniquePath();
    await script(missPath, [{ headers: { "cache-control": "max-age=60" }, body: "m{count}" }]);
    // only-if-cached and no-store on a miss: fetched and stored anyway.
    await expectServed(brim, missPath, "m1", MISS_STORED, { headers: { "cache-control": "only-if-cached, no-store" } });
    await expectServed(brim, missPath, "m1", "Brim; hit; ttl=60");

    await stored(brim, path, 20);
    for (const cc of ["no-cache", "max-age=0", "min-fresh=50", "no-store"]) {
      await expectServed(brim, path, "v1", "Brim; hit; ttl=40", { headers: { "cache-control": cc } });
    }
    brim.clock.advance(60);
    await script(path, [dated(brim, { headers: { "cache-control": "max-age=60", etag: '"e1"' }, body: "v{count}" })]);
    // max-stale does not make a stale entry servable either.
    await expectServed(brim, path, "v1", "Brim; fwd=stale; fwd-status=304; ttl=60", { headers: { "cache-control": "max-stale" } });
    expect(await count(path)).toBe(2);
  });
});

describe("client conditionals (RFC 9110 §13.2)", () => {
  const LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT";

  async function storedWithValidators(brim: TestBrim, path: string): Promise<void> {
    await script(path, [{ headers: { "cache-control": "max-age=60", etag: '"e1"', "last-modified": LAST_MODIFIED }, body: "v{count}" }]);
    await expectServed(brim, path, "v1", MISS_STORED);
  }

  function expectNotModified(res: Response, cs: string): void {
    expect(res.status).toBe(304);
    expect(res.body).toBeNull();
    expect(cacheStatus(res)).toBe(cs);
    expect(res.headers.get("etag")).toBe('"e1"');
    expect(res.headers.get("cache-control")).toBe("max-age=60");
  }

  it.each([
    ["If-None-Match with the entry's ETag", { "if-none-match": '"e1"' }],
    ["If-None-Match with a weak match in a list", { "if-none-match": '"x", W/"e1"' }],
    ["If-None-Match: *", { "if-none-match": "*" }],
    ["If-Modified-Since at Last-Modified", { "if-modified-since": LAST_MODIFIED }],
    ["If-Modified-Since after Last-Modified", { "if-modified-since": "Thu, 02 Jan 2025 00:00:00 GMT" }],
  ])("%s: 304 from the cache", async (_, headers) => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await storedWithValidators(brim, path);
    const res = await brim.fetch(path, { headers });
    expectNotModified(res, "Brim; hit; ttl=60");
    expect(await count(path)).toBe(1);
  });

  it.each([
    ["a different ETag", { "if-none-match": '"e2"' }],
    ["an older date", { "if-modified-since": "Tue, 31 Dec 2024 00:00:00 GMT" }],
    [
      "a different ETag, even with a matching date (If-None-Match decides)",
      { "if-none-match": '"e2"', "if-modified-since": LAST_MODIFIED },
    ],
  ])("%s: 200 with the body from the cache", async (_, headers) => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await storedWithValidators(brim, path);
    const res = await expectServed(brim, path, "v1", "Brim; hit; ttl=60", { headers });
    expect(res.status).toBe(200);
    expect(await count(path)).toBe(1);
  });

  it("on a miss, the client's conditionals are not forwarded, and a match still gets a 304", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60", etag: '"e1"', "last-modified": LAST_MODIFIED }, body: "v{count}" }]);
    const res = await brim.fetch(path, { headers: { "if-none-match": '"e1"', "if-modified-since": LAST_MODIFIED } });
    expectNotModified(res, MISS_STORED);
    const seen = (await requests(path)).requests[0]?.headers;
    expect(seen?.["if-none-match"]).toBeUndefined();
    expect(seen?.["if-modified-since"]).toBeUndefined();
    // The full response was stored.
    await expectServed(brim, path, "v1", "Brim; hit; ttl=60");
    expect(await count(path)).toBe(1);
  });

  it("on a miss with a non-matching validator, the client gets the full response", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60", etag: '"e2"' }, body: "v{count}" }]);
    const res = await expectServed(brim, path, "v1", MISS_STORED, { headers: { "if-none-match": '"e1"' } });
    expect(res.status).toBe(200);
    expect((await requests(path)).requests[0]?.headers["if-none-match"]).toBeUndefined();
  });
});
