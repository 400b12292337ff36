/**
 * Brim as a reverse proxy (RFC 9110 §7.6): what reaches the origin, what comes back, and how
 * origin failures look. Every request runs through real workerd fetch to the scriptable origin.
 */
import { describe, expect, it } from "vitest";
import { testBrim } from "../support/brim";
import { count, generatedBody, originUrl, requests, script, uniquePath } from "../support/origin";

const PASS = { path: "/*", cache: false };
const CACHED = { path: "/*", cache: {} };
const FRESH = { "cache-control": "max-age=60", "content-type": "text/plain" };
const PLAIN_TEXT = "text/plain; charset=utf-8";
/** Nothing listens here: connections are refused. */
const DEAD_ORIGIN = "http://127.0.0.1:9";

/** Compares a (large) body without printing it on failure. */
async function expectGenerated(res: Response, bytes: number): Promise<void> {
  const text = await res.text();
  expect(text.length, "body length").toBe(bytes);
  expect(text === generatedBody(bytes), "body bytes match the origin's").toBe(true);
}

/**
 * A fetcher that records the body of each request Brim hands to `fetch`, so tests can check
 * the bytes sent (the origin log only has their length).
 */
function recordingFetcher(): { fetcher: (r: Request, init?: RequestInit) => Promise<Response>; bodies: string[] } {
  const bodies: string[] = [];
  return {
    bodies,
    fetcher: async (request, init) => {
      bodies.push(await request.clone().text());
      return fetch(request, init);
    },
  };
}

describe("requests reach the origin as sent", () => {
  it.each(["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])("%s: method, path, raw query and body", async (method) => {
    const { fetcher, bodies } = recordingFetcher();
    const brim = testBrim({ acme: [PASS] }, { fetcher });
    const path = uniquePath();
    await script(path, [{ status: 200, body: "{method} {query}" }]);
    const body = `payload for ${method}: ünïcødé ✓`;
    const res = await brim.fetch(`${path}?b=2&a=1&a=0&q=a+b%2f`, { method, body, headers: { "content-type": "text/plain" } });

    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`${method} b=2&a=1&a=0&q=a+b%2f`);
    const [seen] = (await requests(path)).requests;
    expect(seen).toMatchObject({ method, url: `${path}?b=2&a=1&a=0&q=a+b%2f`, bodyLength: new TextEncoder().encode(body).length });
    expect(seen?.headers["content-type"]).toBe("text/plain");
    expect(bodies).toStrictEqual([body]);
    expect(await count(path)).toBe(1);
  });

  it("GET: method, path and raw query, no body", async () => {
    // %2F is ambiguous and refused by default (test/tenant/paths.test.ts); this route opts out.
    const brim = testBrim({ acme: [{ ...PASS, ambiguousPaths: "forward" }] });
    const path = `${uniquePath()}/sub%2Fdir/file.txt`;
    await script(path, [{ body: "{method} {query}" }]);
    const res = await brim.fetch(`${path}?z=1&a=%c3%a9`);
    expect(await res.text()).toBe("GET z=1&a=%c3%a9");
    const [seen] = (await requests(path)).requests;
    expect(seen).toMatchObject({ method: "GET", url: `${path}?z=1&a=%c3%a9`, bodyLength: 0 });
  });

  it("on a cacheable route, unsafe methods are forwarded with their full query and body", async () => {
    const { fetcher, bodies } = recordingFetcher();
    const brim = testBrim({ acme: [{ path: "/*", cache: { key: { query: ["page"] } } }] }, { fetcher });
    const path = uniquePath();
    await script(path, [{ status: 201, body: "{method} {query}" }]);
    const res = await brim.fetch(`${path}?utm=x&page=2`, { method: "POST", body: "created" });
    expect([res.status, await res.text()]).toStrictEqual([201, "POST utm=x&page=2"]);
    expect(bodies).toStrictEqual(["created"]);
    expect((await requests(path)).requests[0]?.bodyLength).toBe(7);
  });
});

describe("hop-by-hop fields are removed both ways (RFC 9110 §7.6.1)", () => {
  const HOP_REQUEST = {
    connection: "x-foo, keep-alive",
    "x-foo": "hop-only",
    "keep-alive": "timeout=5",
    te: "trailers",
    upgrade: "websocket",
    "proxy-authorization": "Basic cHJveHk6c2VjcmV0",
    // End-to-end fields that must still arrive.
    authorization: "Bearer end-to-end",
    "x-keep": "kept",
  };

  it("from the request", async () => {
    const brim = testBrim({ acme: [PASS] });
    const path = uniquePath();
    await brim.fetch(path, { headers: HOP_REQUEST });
    const headers = (await requests(path)).requests[0]!.headers;
    for (const name of ["x-foo", "keep-alive", "te", "upgrade", "proxy-authorization"]) expect(headers, name).not.toHaveProperty(name);
    expect(headers.connection ?? "").not.toMatch(/x-foo/i);
    expect(headers.authorization).toBe("Bearer end-to-end");
    expect(headers["x-keep"]).toBe("kept");
  });

  it("from the request when filling the cache", async () => {
    // Cacheable fetches forward only allowed headers (test/cache/shared-input.test.ts): x-keep is named.
    const brim = testBrim({ acme: [{ path: "/*", cache: { forwardUnkeyed: { "x-keep": "only logged" } } }] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "ok" }]);
    const { authorization: _, ...withoutCredentials } = HOP_REQUEST;
    await brim.fetch(path, { headers: withoutCredentials });
    const headers = (await requests(path)).requests[0]!.headers;
    for (const name of ["x-foo", "keep-alive", "te", "upgrade", "proxy-authorization"]) expect(headers, name).not.toHaveProperty(name);
    expect(headers["x-keep"]).toBe("kept");
  });

  const HOP_RESPONSE = {
    connection: "x-foo",
    "x-foo": "hop-only",
    "keep-alive": "timeout=5",
    upgrade: "h2c",
    "proxy-authenticate": "Basic",
    "x-keep": "kept",
  };

  it("from the response", async () => {
    const brim = testBrim({ acme: [PASS] });
    const path = uniquePath();
    await script(path, [{ headers: HOP_RESPONSE, body: "body" }]);
    const res = await brim.fetch(path);
    expect(await res.text()).toBe("body");
    for (const name of ["connection", "x-foo", "keep-alive", "upgrade", "proxy-authenticate"])
      expect(res.headers.get(name), name).toBeNull();
    expect(res.headers.get("x-keep")).toBe("kept");
  });

  it("from the response, on the miss and on the hit", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { ...HOP_RESPONSE, ...FRESH }, body: "body" }]);
    const miss = await brim.fetch(path);
    const hit = await brim.fetch(path);
    expect(hit.headers.get("cache-status")).toMatch(/^Brim; hit/);
    for (const res of [miss, hit]) {
      expect(await res.text()).toBe("body");
      for (const name of ["connection", "x-foo", "keep-alive", "upgrade", "proxy-authenticate"])
        expect(res.headers.get(name), name).toBeNull();
      expect(res.headers.get("x-keep")).toBe("kept");
    }
  });
});

describe("forwarding headers: the client's are dropped, Brim sets its own", () => {
  const SPOOFED = {
    "x-forwarded-for": "6.6.6.6",
    "x-forwarded-host": "evil.example",
    "x-forwarded-proto": "https",
    "x-forwarded-port": "1337",
    forwarded: "for=6.6.6.6;host=evil.example;proto=https",
    "x-original-url": "/admin",
    "x-rewrite-url": "/admin",
    "x-http-method-override": "DELETE",
  };
  const GONE = ["forwarded", "x-original-url", "x-rewrite-url", "x-http-method-override", "x-forwarded-port"];

  it("without cf-connecting-ip: X-Forwarded-Proto and -Host only", async () => {
    const brim = testBrim({ acme: [PASS] });
    const path = uniquePath();
    await brim.fetch(path, { headers: SPOOFED });
    const headers = (await requests(path)).requests[0]!.headers;
    expect(headers["x-forwarded-proto"]).toBe("http");
    expect(headers["x-forwarded-host"]).toBe("acme.test");
    expect(headers).not.toHaveProperty("x-forwarded-for");
    for (const name of GONE) expect(headers, name).not.toHaveProperty(name);
  });

  it("with cf-connecting-ip: X-Forwarded-For is that address alone", async () => {
    const brim = testBrim({ acme: [PASS] });
    const path = uniquePath();
    await brim.fetch(path, { headers: { ...SPOOFED, "cf-connecting-ip": "203.0.113.7" } });
    const headers = (await requests(path)).requests[0]!.headers;
    expect(headers["x-forwarded-for"]).toBe("203.0.113.7");
    expect(headers["x-forwarded-host"]).toBe("acme.test");
    for (const name of GONE) expect(headers, name).not.toHaveProperty(name);
  });

  it("a spoofed X-Forwarded-Host cannot poison a cached response", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "<script src=//{header:x-forwarded-host}/app.js>" }]);
    const attacker = await brim.fetch(path, { headers: SPOOFED });
    expect(await attacker.text()).toBe("<script src=//acme.test/app.js>");
    const victim = await brim.fetch(path);
    expect(victim.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await victim.text()).toBe("<script src=//acme.test/app.js>");
    expect(await count(path)).toBe(1);
  });
});

describe("Host and origin selection", () => {
  it("the origin sees its own Host by default", async () => {
    const brim = testBrim({ acme: [PASS] });
    const path = uniquePath();
    await brim.fetch(path);
    expect((await requests(path)).requests[0]!.headers.host).toBe(new URL(originUrl()).host);
  });

  // KNOWN BUG (reported): workerd's fetch() always derives Host from the URL and ignores a
  // Host header (Cloudflare forbids Host overrides), so `preserveHost` has no effect; the
  // client's host only reaches the origin as X-Forwarded-Host. `it.fails` keeps the correct
  // assertion and will turn red once Brim honours the setting.
  it.fails("with preserveHost: true, the origin sees the client's Host", async () => {
    const brim = testBrim({ acme: [{ ...PASS, preserveHost: true }] });
    const path = uniquePath();
    await brim.fetch(path);
    expect((await requests(path)).requests[0]!.headers.host).toBe("acme.test");
  });

  it("with preserveHost: true, X-Forwarded-Host carries the client's Host", async () => {
    const brim = testBrim({ acme: [{ ...PASS, preserveHost: true }] });
    const path = uniquePath();
    await brim.fetch(path);
    expect((await requests(path)).requests[0]!.headers["x-forwarded-host"]).toBe("acme.test");
  });

  it("a route's own origin (with its path prefix) replaces the tenant's", async () => {
    const brim = testBrim({ acme: [{ ...PASS, origin: `${originUrl()}/override` }] });
    const path = uniquePath();
    const res = await brim.fetch(`${path}?x=1`);
    expect(await res.text()).toBe(`origin:/override${path}#1`);
    expect((await requests(`/override${path}`)).requests[0]?.url).toBe(`/override${path}?x=1`);
    expect(await count(path)).toBe(0);
  });

  it.each([
    ["uncached", PASS],
    ["cacheable, coalescing off", { path: "/*", cache: { coalesce: false } }],
    ["cacheable, coalescing on", CACHED],
  ])("redirects are passed through, never followed (%s route)", async (_, route) => {
    const brim = testBrim({ acme: [route] });
    const path = uniquePath();
    const target = uniquePath();
    await script(path, [{ status: 302, headers: { location: target }, body: "moved" }]);
    const res = await brim.fetch(path);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(target);
    expect(await res.text()).toBe("moved");
    expect(await count(path)).toBe(1);
    expect(await count(target)).toBe(0);
  });
});

describe("origin failures", () => {
  async function expectPlainError(res: Response, status: number, body: RegExp): Promise<void> {
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe(PLAIN_TEXT);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toMatch(body);
  }

  it("a POST is never retried: a reset connection gives one origin request and 502", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ reset: true }, { status: 201, body: "second attempt" }]);
    const res = await brim.fetch(path, { method: "POST", body: "charge card" });
    await expectPlainError(res, 502, /^Bad Gateway/);
    expect(res.headers.get("cache-status")).toBe("Brim; fwd=method; detail=origin-unreachable");
    expect(await count(path)).toBe(1);
  });

  it.each([
    ["uncached", { ...PASS, origin: DEAD_ORIGIN }, "Brim; fwd=bypass; detail=origin-unreachable"],
    ["cacheable", { ...CACHED, origin: DEAD_ORIGIN }, "Brim; fwd=uri-miss; detail=origin-unreachable"],
  ])("a dead origin gives 502 plain text (%s route)", async (_, route, cacheStatus) => {
    const brim = testBrim({ acme: [route] });
    const res = await brim.fetch(uniquePath());
    await expectPlainError(res, 502, /^Bad Gateway: the origin could not be reached\n$/);
    expect(res.headers.get("cache-status")).toBe(cacheStatus);
    expect(brim.logs).toContainEqual(expect.objectContaining({ event: "origin-error", code: "ORIGIN_UNREACHABLE" }));
  });

  it.each([
    ["uncached", PASS, "Brim; fwd=bypass; detail=origin-timeout"],
    ["cacheable", CACHED, "Brim; fwd=uri-miss; detail=origin-timeout"],
  ])("an origin slower than timeoutMs gives 504 plain text (%s route)", async (_, route, cacheStatus) => {
    const brim = testBrim({ acme: [{ ...route, timeoutMs: 200 }] });
    const path = uniquePath();
    // The origin never answers: only the timeout can produce a response.
    await script(path, [{ hang: true }]);
    const res = await brim.fetch(path);
    await expectPlainError(res, 504, /^Gateway Timeout: the origin did not answer in time\n$/);
    expect(res.headers.get("cache-status")).toBe(cacheStatus);
    expect(await count(path)).toBe(1);
  });

  it("the timeout bounds the wait for headers only: a slow body still streams", async () => {
    const brim = testBrim({ acme: [{ ...PASS, timeoutMs: 200 }] });
    const path = uniquePath();
    await script(path, [{ bodyBytes: 256 * 1024, chunkDelayMs: 100 }]);
    const res = await brim.fetch(path);
    expect(res.status).toBe(200);
    await expectGenerated(res, 256 * 1024);
  });
});

// 5 MB bodies through Brim, the Cache API and back: an explicit budget for a busy machine.
describe("bodies stream through intact", { timeout: 30_000 }, () => {
  const FIVE_MB = 5 * 1024 * 1024;

  it("a 5 MB response, uncached", async () => {
    const brim = testBrim({ acme: [PASS] });
    const path = uniquePath();
    await script(path, [{ bodyBytes: FIVE_MB }]);
    const res = await brim.fetch(path, { background: false });
    expect(res.headers.get("content-length")).toBe(String(FIVE_MB));
    await expectGenerated(res, FIVE_MB);
  });

  it("a 5 MB response, stored and then served intact from cache", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ bodyBytes: FIVE_MB, headers: FRESH }]);
    const miss = await brim.fetch(path);
    expect(miss.headers.get("cache-status")).toBe("Brim; fwd=uri-miss; fwd-status=200; stored");
    await expectGenerated(miss, FIVE_MB);
    const hit = await brim.fetch(path);
    expect(hit.headers.get("cache-status")).toMatch(/^Brim; hit/);
    await expectGenerated(hit, FIVE_MB);
    expect(await count(path)).toBe(1);
  });

  it("a 5 MB request body", async () => {
    const { fetcher, bodies } = recordingFetcher();
    const brim = testBrim({ acme: [PASS] }, { fetcher });
    const path = uniquePath();
    const body = generatedBody(FIVE_MB);
    const res = await brim.fetch(path, { method: "PUT", body });
    expect(res.status).toBe(200);
    expect((await requests(path)).requests[0]?.bodyLength).toBe(FIVE_MB);
    expect(bodies[0] === body).toBe(true);
  });
});

describe("responses over maxObjectBytes are served intact but not stored", () => {
  // maxObjectBytes bounds the stored bytes; compression off so stored = origin bytes here.
  const route = (maxObjectBytes: number) => ({ path: "/*", cache: { maxObjectBytes }, compression: false });

  it("with Content-Length", async () => {
    const brim = testBrim({ acme: [route(1_000)] });
    const path = uniquePath();
    await script(path, [{ bodyBytes: 1_001, headers: FRESH }]);
    for (const n of [1, 2]) {
      const res = await brim.fetch(path);
      expect(res.headers.get("content-length")).toBe("1001");
      await expectGenerated(res, 1_001);
      expect(res.headers.get("cache-status")).toBe("Brim; fwd=uri-miss; fwd-status=200; detail=not-stored-too-large");
      expect(await count(path)).toBe(n);
    }
  });

  it("without Content-Length (chunked): the limit is enforced while the body streams", async () => {
    const brim = testBrim({ acme: [route(100_000)] });
    const path = uniquePath();
    await script(path, [{ bodyBytes: 300_000, headers: { ...FRESH, "transfer-encoding": "chunked" } }]);
    for (const n of [1, 2]) {
      const res = await brim.fetch(path);
      expect(res.headers.get("content-length")).toBeNull();
      await expectGenerated(res, 300_000);
      expect(res.headers.get("cache-status")).toMatch(/^Brim; fwd=uri-miss; fwd-status=200/);
      expect(await count(path)).toBe(n);
    }
    expect(brim.logs).toContainEqual(expect.objectContaining({ event: "cache-write-failed" }));
  });

  it.each([
    ["with Content-Length", {}],
    ["chunked", { "transfer-encoding": "chunked" }],
  ])("a body of exactly maxObjectBytes is stored (%s)", async (_, extra) => {
    const brim = testBrim({ acme: [route(200_000)] });
    const path = uniquePath();
    await script(path, [{ bodyBytes: 200_000, headers: { ...FRESH, ...extra } }]);
    await brim.fetch(path);
    const hit = await brim.fetch(path);
    expect(hit.headers.get("cache-status")).toMatch(/^Brim; hit/);
    await expectGenerated(hit, 200_000);
    expect(await count(path)).toBe(1);
  });
});

describe("Range requests on cacheable routes are answered from the cache (test/cache/range.test.ts)", () => {
  it("Range is not forwarded: the whole object is fetched and stored, the client gets its part", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "0123456789" }]);
    const partial = await brim.fetch(path, { headers: { range: "bytes=0-3" } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get("content-range")).toBe("bytes 0-3/10");
    expect(partial.headers.get("cache-status")).toBe("Brim; fwd=uri-miss; fwd-status=200; stored");
    expect(await partial.text()).toBe("0123");
    expect((await requests(path)).requests[0]?.headers.range).toBeUndefined();

    const full = await brim.fetch(path);
    expect(full.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await full.text()).toBe("0123456789");
    expect(await count(path)).toBe(1);
  });

  it("a stored full response answers Range without the origin", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "0123456789" }]);
    await brim.fetch(path);
    const partial = await brim.fetch(path, { headers: { range: "bytes=0-3" } });
    expect([partial.status, partial.headers.get("cache-status")?.startsWith("Brim; hit"), await partial.text()]).toStrictEqual([
      206,
      true,
      "0123",
    ]);
    expect(await count(path)).toBe(1);
  });

  it("on an uncached route Range still goes to the origin and the 206 passes through", async () => {
    const brim = testBrim({ acme: [PASS] });
    const path = uniquePath();
    await script(path, [{ status: 206, headers: { ...FRESH, "content-range": "bytes 0-3/10" }, body: "0123" }]);
    const partial = await brim.fetch(path, { headers: { range: "bytes=0-3" } });
    expect([partial.status, partial.headers.get("content-range"), partial.headers.get("cache-status"), await partial.text()]).toStrictEqual(
      [206, "bytes 0-3/10", "Brim; fwd=bypass", "0123"],
    );
    expect((await requests(path)).requests[0]?.headers.range).toBe("bytes=0-3");
  });
});

describe("cacheable routes forward only the keyed query (cache-poisoning protection)", () => {
  it("allow-list: the origin receives only the listed parameters", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { key: { query: ["page", "sort"] } } }] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "query={query} #{count}" }]);
    const first = await brim.fetch(`${path}?utm_source=evil&page=2&callback=alert&sort=asc`);
    expect(await first.text()).toBe("query=page=2&sort=asc #1");
    expect((await requests(path)).requests[0]?.url).toBe(`${path}?page=2&sort=asc`);

    // Unkeyed parameters neither reach the origin nor change what is served.
    const second = await brim.fetch(`${path}?sort=asc&page=2&utm_source=other&x=%3Cscript%3E`);
    expect(second.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await second.text()).toBe("query=page=2&sort=asc #1");

    const other = await brim.fetch(`${path}?page=3`);
    expect(await other.text()).toBe("query=page=3 #2");
    expect((await requests(path)).requests.map((r) => r.url)).toStrictEqual([`${path}?page=2&sort=asc`, `${path}?page=3`]);
  });

  it('"none": the origin receives no query at all', async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { key: { query: "none" } } }] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "query=[{query}] #{count}" }]);
    expect(await (await brim.fetch(`${path}?debug=1&lang=../../etc`)).text()).toBe("query=[] #1");
    const hit = await brim.fetch(`${path}?anything=else`);
    expect(await hit.text()).toBe("query=[] #1");
    expect((await requests(path)).requests.map((r) => r.url)).toStrictEqual([path]);
  });

  it('"none": a HEAD miss fills the cache without the query too', async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { key: { query: "none" } } }] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "query=[{query}]" }]);
    await brim.fetch(`${path}?poison=1`, { method: "HEAD" });
    expect(await (await brim.fetch(path)).text()).toBe("query=[]");
    expect((await requests(path)).requests.map((r) => [r.method, r.url])).toStrictEqual([["GET", path]]);
  });

  it('"all": the origin receives the normalised (sorted) query the key uses', async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: "query={query} #{count}" }]);
    expect(await (await brim.fetch(`${path}?b=2&a=1`)).text()).toBe("query=a=1&b=2 #1");
    expect(await (await brim.fetch(`${path}?a=1&b=2`)).text()).toBe("query=a=1&b=2 #1");
    expect(await (await brim.fetch(`${path}?a=1&b=2&c=3`)).text()).toBe("query=a=1&b=2&c=3 #2");
    expect((await requests(path)).requests.map((r) => r.url)).toStrictEqual([`${path}?a=1&b=2`, `${path}?a=1&b=2&c=3`]);
  });
});
