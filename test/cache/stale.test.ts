/**
 * Serving stale (RFC 9111 §4.2.4, RFC 5861) and revalidating (RFC 9111 §4.3): what a client
 * gets once an entry is past its freshness lifetime, and what reaches the origin.
 *
 * Clock: Brim's clock only moves on `brim.clock.advance`, but the origin's `Date` is real. A
 * response fetched after an advance would look that many seconds old (apparent age, RFC 9111
 * §4.2.3), so specs for such responses carry a `Date` taken from Brim's clock (`dated`).
 */
import { describe, expect, it } from "vitest";
import { formatHttpDate } from "../../src/http/http-date";
import { testBrim, type RawRoute, type TestBrim } from "../support/brim";
import { count, requests, script, uniquePath, type ResponseSpec, release, uniqueGate } from "../support/origin";

const CACHED = { path: "/*", cache: {} };
/** Origin failures are detected fast: timeouts after 300 ms. */
const FAST_TIMEOUT = { path: "/*", timeoutMs: 300, cache: {} };
const ORIGIN_TIMEOUT_BODY = "Gateway Timeout: the origin did not answer in time\n";
const ORIGIN_UNREACHABLE_BODY = "Bad Gateway: the origin could not be reached\n";

/** `spec` with a Date header from Brim's clock, so the response's apparent age is 0. */
function dated(brim: TestBrim, spec: ResponseSpec): ResponseSpec {
  return { ...spec, headers: { date: formatHttpDate(brim.clock.now()), ...spec.headers } };
}

/** Stores `v1` with `cacheControl` (plus `extra` headers), then moves the clock `seconds` on. */
async function storeThenAge(
  brim: TestBrim,
  path: string,
  cacheControl: string,
  seconds: number,
  extra: Record<string, string> = {},
): Promise<void> {
  await script(path, [dated(brim, { headers: { "cache-control": cacheControl, ...extra }, body: "v{count}" })]);
  const first = await brim.fetch(path);
  expect(await first.text()).toBe("v1");
  expect(first.headers.get("cache-status")).toBe("Brim; fwd=uri-miss; fwd-status=200; stored");
  brim.clock.advance(seconds);
}

function cacheStatus(res: Response): string | null {
  return res.headers.get("cache-status");
}

describe("stale-while-revalidate (RFC 5861 §3)", () => {
  const cases: [string, RawRoute, string][] = [
    ["the origin's stale-while-revalidate", CACHED, "max-age=10, stale-while-revalidate=60"],
    ["the route's staleWhileRevalidate", { path: "/*", cache: { staleWhileRevalidate: 60 } }, "max-age=10"],
  ];

  it.each(cases)("with %s, a stale request gets the stale body at once and one refresh follows", async (_, route, cc) => {
    const brim = testBrim({ acme: [route] });
    const path = uniquePath();
    await storeThenAge(brim, path, cc, 15);
    // The refresh is held at the origin until the stale answer is in: it must not wait for it.
    const gate = uniqueGate();
    await script(path, [dated(brim, { headers: { "cache-control": cc }, body: "v{count}", gate })]);

    const stale = await brim.fetch(path, { background: false });
    expect(await stale.text()).toBe("v1");
    await release(gate);
    expect(stale.status).toBe(200);
    expect(cacheStatus(stale)).toBe("Brim; hit; ttl=-5; detail=stale-while-revalidate");
    expect(stale.headers.get("age")).toBe("15");

    await brim.settled();
    expect(await count(path)).toBe(2);
    const fresh = await brim.fetch(path);
    expect(await fresh.text()).toBe("v2");
    expect(cacheStatus(fresh)).toBe("Brim; hit; ttl=10");
    expect(await count(path)).toBe(2);
  });

  it.each([
    ["coalescing on", CACHED],
    ["coalescing off (the per-isolate lock alone)", { path: "/*", cache: { coalesce: false } }],
  ])("concurrent stale requests cause exactly one background refresh (%s)", async (_, route) => {
    const brim = testBrim({ acme: [route] });
    const path = uniquePath();
    const cc = "max-age=10, stale-while-revalidate=60";
    await storeThenAge(brim, path, cc, 15);
    await script(path, [dated(brim, { headers: { "cache-control": cc }, body: "v{count}", delayMs: 300 })]);

    const responses = await Promise.all(Array.from({ length: 6 }, () => brim.fetch(path, { background: false })));
    for (const res of responses) {
      expect(await res.text()).toBe("v1");
      expect(cacheStatus(res)).toBe("Brim; hit; ttl=-5; detail=stale-while-revalidate");
    }
    await brim.settled();
    expect(await count(path)).toBe(2);

    const fresh = await brim.fetch(path);
    expect(await fresh.text()).toBe("v2");
    expect(cacheStatus(fresh)).toBe("Brim; hit; ttl=10");
    expect(await count(path)).toBe(2);
  });

  it("the background refresh is conditional; a 304 makes the stored entry fresh again", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    const cc = "max-age=10, stale-while-revalidate=60";
    await storeThenAge(brim, path, cc, 15, { etag: '"e1"' });
    await script(path, [dated(brim, { headers: { "cache-control": cc, etag: '"e1"' }, body: "v{count}" })]);

    const stale = await brim.fetch(path);
    expect(await stale.text()).toBe("v1");
    expect(cacheStatus(stale)).toBe("Brim; hit; ttl=-5; detail=stale-while-revalidate");
    const log = await requests(path);
    expect(log.count).toBe(2);
    expect(log.requests[1]?.headers["if-none-match"]).toBe('"e1"');

    const fresh = await brim.fetch(path);
    expect(await fresh.text()).toBe("v1");
    expect(cacheStatus(fresh)).toBe("Brim; hit; ttl=10");
    // The 304's headers replaced the stored ones (RFC 9111 §4.3.4).
    expect(fresh.headers.get("x-origin-count")).toBe("2");
    expect(await count(path)).toBe(2);
  });

  it("a failed background refresh leaves the stale entry in place", async () => {
    const brim = testBrim({ acme: [FAST_TIMEOUT] });
    const path = uniquePath();
    await storeThenAge(brim, path, "max-age=10, stale-while-revalidate=60", 15);
    await script(path, [{ status: 500, body: "boom" }]);

    for (const [ttl, expectedCount] of [
      [-5, 2],
      [-8, 3],
    ]) {
      const res = await brim.fetch(path);
      expect(await res.text()).toBe("v1");
      expect(cacheStatus(res)).toBe(`Brim; hit; ttl=${ttl}; detail=stale-while-revalidate`);
      expect(await count(path)).toBe(expectedCount);
      // Past the failed flight's join window (timeoutMs + 1 s), so the next refresh is a new one.
      brim.clock.advance(3);
    }
  });

  it("past the window, the request waits for the origin", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await storeThenAge(brim, path, "max-age=10, stale-while-revalidate=20", 40);
    const res = await brim.fetch(path);
    expect(await res.text()).toBe("v2");
    expect(cacheStatus(res)).toBe("Brim; fwd=stale; fwd-status=200; stored");
    expect(await count(path)).toBe(2);
  });

  it("the origin's window beats the route's", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { staleWhileRevalidate: 600 } }] });
    const path = uniquePath();
    await storeThenAge(brim, path, "max-age=10, stale-while-revalidate=5", 20);
    const res = await brim.fetch(path);
    expect(await res.text()).toBe("v2");
    expect(cacheStatus(res)).toBe("Brim; fwd=stale; fwd-status=200; stored");
  });
});

/** Ways the origin can fail while Brim revalidates, and the Cache-Status forward part each gives. */
const FAILURES: [string, ResponseSpec, string][] = [
  ["500", { status: 500, body: "boom" }, "fwd=stale; fwd-status=500"],
  ["502", { status: 502, body: "boom" }, "fwd=stale; fwd-status=502"],
  ["503", { status: 503, body: "boom" }, "fwd=stale; fwd-status=503"],
  ["504", { status: 504, body: "boom" }, "fwd=stale; fwd-status=504"],
  ["a timeout (slow headers)", { delayMs: 3000, body: "late" }, "fwd=stale"],
  ["a timeout (no answer)", { hang: true }, "fwd=stale"],
  ["a connection reset", { reset: true }, "fwd=stale"],
];

/** What the client gets when an origin failure cannot be covered by a stale entry. */
const UNCOVERED: [string, ResponseSpec, number, string, string][] = [
  ["500", { status: 500, body: "boom" }, 500, "boom", "Brim; fwd=stale; fwd-status=500; detail=not-stored-status"],
  ["a timeout", { delayMs: 3000, body: "late" }, 504, ORIGIN_TIMEOUT_BODY, "Brim; fwd=stale; detail=origin-timeout"],
  ["a connection reset", { reset: true }, 502, ORIGIN_UNREACHABLE_BODY, "Brim; fwd=stale; detail=origin-unreachable"],
];

describe("stale-if-error (RFC 5861 §4)", () => {
  it.each(FAILURES)("inside the window, %s from the origin is answered with the stale entry", async (_, failure, fwd) => {
    const brim = testBrim({ acme: [FAST_TIMEOUT] });
    const path = uniquePath();
    await storeThenAge(brim, path, "max-age=10, stale-if-error=60", 15);
    await script(path, [failure]);

    const res = await brim.fetch(path);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("v1");
    expect(cacheStatus(res)).toBe(`Brim; ${fwd}; ttl=-5; detail=stale-if-error`);
    expect(res.headers.get("age")).toBe("15");
    expect(await count(path)).toBe(2);
  });

  it("the route's staleIfError works the same way, and the entry survives the failure", async () => {
    // A short timeout keeps the failed fetch's coalescing window (timeoutMs + 1 s) shorter than the advance.
    const brim = testBrim({ acme: [{ path: "/*", timeoutMs: 300, cache: { staleIfError: 60 } }] });
    const path = uniquePath();
    await storeThenAge(brim, path, "max-age=10", 15);
    await script(path, [{ status: 503, body: "down" }]);
    for (const [advance, ttl] of [
      [0, -5],
      [30, -35],
    ] as const) {
      brim.clock.advance(advance);
      const res = await brim.fetch(path);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("v1");
      expect(cacheStatus(res)).toBe(`Brim; fwd=stale; fwd-status=503; ttl=${ttl}; detail=stale-if-error`);
    }
    expect(await count(path)).toBe(3);
  });

  it.each(UNCOVERED)("past the window, %s reaches the client", async (_, failure, status, body, cs) => {
    const brim = testBrim({ acme: [FAST_TIMEOUT] });
    const path = uniquePath();
    await storeThenAge(brim, path, "max-age=10, stale-if-error=20", 40);
    await script(path, [failure]);
    const res = await brim.fetch(path);
    expect(res.status).toBe(status);
    expect(await res.text()).toBe(body);
    expect(cacheStatus(res)).toBe(cs);
  });

  it.each(UNCOVERED)("without stale-if-error, %s reaches the client", async (_, failure, status, body, cs) => {
    const brim = testBrim({ acme: [FAST_TIMEOUT] });
    const path = uniquePath();
    await storeThenAge(brim, path, "max-age=10", 15);
    await script(path, [failure]);
    const res = await brim.fetch(path);
    expect(res.status).toBe(status);
    expect(await res.text()).toBe(body);
    expect(cacheStatus(res)).toBe(cs);
    if (status !== 500) expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  });

  it.each([
    [404, "Brim; fwd=stale; fwd-status=404; detail=not-stored-no-freshness"],
    [400, "Brim; fwd=stale; fwd-status=400; detail=not-stored-status"],
  ])("a %i during revalidation is an answer, not an error: it is passed on", async (status, cs) => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await storeThenAge(brim, path, "max-age=10, stale-if-error=60", 15);
    await script(path, [{ status, body: "no such thing" }]);
    const res = await brim.fetch(path);
    expect(res.status).toBe(status);
    expect(await res.text()).toBe("no such thing");
    expect(cacheStatus(res)).toBe(cs);
  });

  it("a cacheable 404 during revalidation replaces the stored entry", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await storeThenAge(brim, path, "max-age=10, stale-if-error=60", 15);
    await script(path, [dated(brim, { status: 404, headers: { "cache-control": "max-age=60" }, body: "gone" })]);
    const res = await brim.fetch(path);
    expect(res.status).toBe(404);
    expect(cacheStatus(res)).toBe("Brim; fwd=stale; fwd-status=404; stored");
    const again = await brim.fetch(path);
    expect(again.status).toBe(404);
    expect(await again.text()).toBe("gone");
    expect(cacheStatus(again)).toBe("Brim; hit; ttl=60");
    expect(await count(path)).toBe(2);
  });

  it("on a miss there is nothing to fall back on: a timeout is a 504", async () => {
    const brim = testBrim({ acme: [FAST_TIMEOUT] });
    const path = uniquePath();
    await script(path, [{ hang: true }]);
    const res = await brim.fetch(path);
    expect(res.status).toBe(504);
    expect(await res.text()).toBe(ORIGIN_TIMEOUT_BODY);
    expect(cacheStatus(res)).toBe("Brim; fwd=uri-miss; detail=origin-timeout");
  });
});

describe("must-revalidate, proxy-revalidate and s-maxage forbid serving stale (RFC 9111 §4.2.4)", () => {
  const FORBIDDING = [
    "max-age=10, must-revalidate, stale-while-revalidate=60, stale-if-error=60",
    "max-age=10, proxy-revalidate, stale-while-revalidate=60, stale-if-error=60",
    "s-maxage=10, stale-while-revalidate=60, stale-if-error=60",
  ];
  const WITH_ROUTE_WINDOWS = { path: "/*", timeoutMs: 300, cache: { staleWhileRevalidate: 60, staleIfError: 60 } };

  it.each(FORBIDDING)("%s: no stale-while-revalidate, the request waits for the origin", async (cc) => {
    const brim = testBrim({ acme: [WITH_ROUTE_WINDOWS] });
    const path = uniquePath();
    await storeThenAge(brim, path, cc, 15);
    const res = await brim.fetch(path);
    expect(await res.text()).toBe("v2");
    expect(cacheStatus(res)).toBe("Brim; fwd=stale; fwd-status=200; stored");
  });

  it.each(FORBIDDING)("%s: no stale-if-error, a 500 is passed on", async (cc) => {
    const brim = testBrim({ acme: [WITH_ROUTE_WINDOWS] });
    const path = uniquePath();
    await storeThenAge(brim, path, cc, 15);
    await script(path, [{ status: 500, body: "boom" }]);
    const res = await brim.fetch(path);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("boom");
    expect(cacheStatus(res)).toBe("Brim; fwd=stale; fwd-status=500; detail=not-stored-status");
  });

  it("must-revalidate: an unreachable origin gives 504, not the stale entry (RFC 9111 §5.2.2.2)", async () => {
    const brim = testBrim({ acme: [WITH_ROUTE_WINDOWS] });
    const path = uniquePath();
    await storeThenAge(brim, path, FORBIDDING[0] as string, 15);
    await script(path, [{ hang: true }]);
    const res = await brim.fetch(path);
    expect(res.status).toBe(504);
    expect(await res.text()).toBe(ORIGIN_TIMEOUT_BODY);
    expect(cacheStatus(res)).toBe("Brim; fwd=stale; detail=origin-timeout");
  });

  it("must-revalidate: even a client's max-stale does not get the stale entry", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await storeThenAge(brim, path, "max-age=10, must-revalidate", 15);
    const res = await brim.fetch(path, { headers: { "cache-control": "max-stale=600" } });
    expect(await res.text()).toBe("v2");
    expect(cacheStatus(res)).toBe("Brim; fwd=stale; fwd-status=200; stored");
  });
});

describe("revalidation with validators (RFC 9111 §4.3)", () => {
  it("a stale entry with an ETag is validated with If-None-Match; a 304 refreshes it with no body", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await storeThenAge(brim, path, "max-age=10", 15, { etag: '"e1"' });
    await script(path, [dated(brim, { headers: { "cache-control": "max-age=10", etag: '"e1"' }, body: "v{count}" })]);

    const res = await brim.fetch(path);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("v1");
    expect(cacheStatus(res)).toBe("Brim; fwd=stale; fwd-status=304; ttl=10");
    expect(res.headers.get("etag")).toBe('"e1"');
    expect(res.headers.get("age")).toBe("0");
    expect(res.headers.get("x-origin-count")).toBe("2");
    const log = await requests(path);
    expect(log.requests[0]?.headers["if-none-match"]).toBeUndefined();
    expect(log.requests[1]?.headers["if-none-match"]).toBe('"e1"');
    expect(log.requests[1]?.headers["if-modified-since"]).toBeUndefined();

    brim.clock.advance(4);
    const hit = await brim.fetch(path);
    expect(await hit.text()).toBe("v1");
    expect(cacheStatus(hit)).toBe("Brim; hit; ttl=6");
    expect(hit.headers.get("x-origin-count")).toBe("2");
    expect(await count(path)).toBe(2);
  });

  it("a stale entry with Last-Modified is validated with If-Modified-Since", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    const lastModified = "Wed, 01 Jan 2025 00:00:00 GMT";
    await storeThenAge(brim, path, "max-age=10", 15, { "last-modified": lastModified });
    await script(path, [dated(brim, { headers: { "cache-control": "max-age=10", "last-modified": lastModified }, body: "v{count}" })]);

    const res = await brim.fetch(path);
    expect(await res.text()).toBe("v1");
    expect(cacheStatus(res)).toBe("Brim; fwd=stale; fwd-status=304; ttl=10");
    const seen = (await requests(path)).requests[1]?.headers;
    expect(seen?.["if-modified-since"]).toBe(lastModified);
    expect(seen?.["if-none-match"]).toBeUndefined();
    expect(cacheStatus(await brim.fetch(path))).toBe("Brim; hit; ttl=10");
    expect(await count(path)).toBe(2);
  });

  it("a changed resource answers the conditional request with 200, which replaces the entry", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await storeThenAge(brim, path, "max-age=10", 15, { etag: '"e1"' });
    await script(path, [dated(brim, { headers: { "cache-control": "max-age=10", etag: '"e2"' }, body: "v{count}" })]);
    const res = await brim.fetch(path);
    expect(await res.text()).toBe("v2");
    expect(cacheStatus(res)).toBe("Brim; fwd=stale; fwd-status=200; stored");
    expect(res.headers.get("etag")).toBe('"e2"');
    const hit = await brim.fetch(path);
    expect(await hit.text()).toBe("v2");
    expect(cacheStatus(hit)).toBe("Brim; hit; ttl=10");
  });

  it("a 304 with a new Cache-Control updates the stored entry's freshness", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await storeThenAge(brim, path, "max-age=10", 15, { etag: '"e1"' });
    await script(path, [dated(brim, { headers: { "cache-control": "max-age=100", etag: '"e1"' }, body: "v{count}" })]);

    const res = await brim.fetch(path);
    expect(await res.text()).toBe("v1");
    expect(cacheStatus(res)).toBe("Brim; fwd=stale; fwd-status=304; ttl=100");
    expect(res.headers.get("cache-control")).toBe("max-age=100");

    brim.clock.advance(50);
    const hit = await brim.fetch(path);
    expect(await hit.text()).toBe("v1");
    expect(cacheStatus(hit)).toBe("Brim; hit; ttl=50");
    expect(hit.headers.get("cache-control")).toBe("max-age=100");
    expect(await count(path)).toBe(2);
  });

  it.each([
    ["no-cache, max-age=60", CACHED],
    ["no-cache", CACHED],
    ["no-cache, max-age=60", { path: "/*", cache: { coalesce: false } }],
  ])("a `%s` response is stored but validated on every use (route %j)", async (cc, route) => {
    const brim = testBrim({ acme: [route] });
    const path = uniquePath();
    await script(path, [dated(brim, { headers: { "cache-control": cc, etag: '"e1"' }, body: "v{count}" })]);
    const first = await brim.fetch(path);
    expect(await first.text()).toBe("v1");
    expect(cacheStatus(first)).toBe("Brim; fwd=uri-miss; fwd-status=200; stored");

    const ttl = cc.includes("max-age=60") ? 60 : 0;
    for (const expectedCount of [2, 3]) {
      const res = await brim.fetch(path);
      expect(await res.text()).toBe("v1");
      expect(cacheStatus(res)).toBe(`Brim; fwd=stale; fwd-status=304; ttl=${ttl}`);
      const log = await requests(path);
      expect(log.count).toBe(expectedCount);
      expect(log.requests[expectedCount - 1]?.headers["if-none-match"]).toBe('"e1"');
    }
  });
});
