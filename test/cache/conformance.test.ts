/**
 * Cases from http-tests/cache-tests (`npm run conformance`, docs/conformance.md) that Brim once
 * failed, reproduced in workerd: each `it` names the suite's test id.
 */
import { describe, expect, it } from "vitest";
import { testBrim } from "../support/brim";
import { count, script, uniquePath } from "../support/origin";

const CACHED = { path: "/*", cache: {} };
const PLAIN = { path: "/*", cache: {}, compression: false as const };
const MISS_STORED = "Brim; fwd=uri-miss; fwd-status=200; stored";
const CONNECTION_CLOSE = "connection: close\r\n";

describe("Age (RFC 9111 §5.1)", () => {
  it.each(["7200.0", "1.5", "-1", "abc", "1e4"])("age-parse-float: Age %s is ignored, so max-age=3600 is fresh", async (age) => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=3600", age }, body: "v{count}" }]);
    expect((await brim.fetch(path)).headers.get("cache-status")).toBe(MISS_STORED);
    const hit = await brim.fetch(path);
    expect(await hit.text()).toBe("v1");
    expect(hit.headers.get("cache-status")).toBe("Brim; hit; ttl=3600");
    expect(hit.headers.get("age")).toBe("0");
  });

  it("of a list only the first member counts", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=3600", age: "100, 5000" }, body: "v{count}" }]);
    await brim.fetch(path);
    const hit = await brim.fetch(path);
    expect(hit.headers.get("cache-status")).toBe("Brim; hit; ttl=3500");
  });
});

describe("CDN-Cache-Control members of the wrong type (RFC 9213 §2.1)", () => {
  it('cdn-cc-invalid-sh-type-wrong: max-age="10000" is ignored; nothing else gives freshness, so nothing is stored', async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { "cdn-cache-control": 'max-age="10000"', "cache-control": "no-store" }, body: "v{count}" }]);
    await brim.fetch(path);
    const second = await brim.fetch(path);
    expect(await second.text()).toBe("v2");
    expect(await count(path)).toBe(2);
  });

  it("the other members still apply", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [
      { headers: { "cdn-cache-control": 's-maxage="10000", max-age=60', "cache-control": "no-store" }, body: "v{count}" },
    ]);
    await brim.fetch(path);
    expect((await brim.fetch(path)).headers.get("cache-status")).toBe("Brim; hit; ttl=60");
  });
});

describe("Content-Length of a stored response (RFC 9111 §3.1, §3.2)", () => {
  it("headers-store-Content-Length: a hit carries the stored Content-Length", async () => {
    const brim = testBrim({ acme: [PLAIN] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=3600", "content-type": "text/plain" }, body: "0123456789" }]);
    const miss = await brim.fetch(path);
    expect(miss.headers.get("content-length")).toBe("10");
    expect(await miss.text()).toBe("0123456789");
    const hit = await brim.fetch(path);
    expect(hit.headers.get("cache-status")).toBe("Brim; hit; ttl=3600");
    expect(hit.headers.get("content-length")).toBe("10");
    expect(await hit.text()).toBe("0123456789");
  });

  it("304-etag-update-response-Content-Length: a 304's Content-Length does not replace the stored one", async () => {
    const brim = testBrim({ acme: [PLAIN] });
    const path = uniquePath();
    const body = "x".repeat(36);
    await script(path, [
      { headers: { "cache-control": "max-age=1", etag: '"a"', "content-type": "text/plain" }, body },
      {
        raw: {
          head: `HTTP/1.1 304 Not Modified\r\ncache-control: max-age=3600\r\netag: "a"\r\ncontent-length: 10\r\n${CONNECTION_CLOSE}\r\n`,
          parts: [],
          end: "fin",
        },
      },
    ]);
    await (await brim.fetch(path)).text();
    brim.clock.advance(2);
    const refreshed = await brim.fetch(path);
    expect(refreshed.headers.get("cache-status")).toMatch(/^Brim; fwd=stale; fwd-status=304; ttl=\d+$/);
    expect(refreshed.headers.get("content-length")).toBe("36");
    expect(await refreshed.text()).toBe(body);
    const hit = await brim.fetch(path);
    expect(hit.headers.get("content-length")).toBe("36");
    expect(await hit.text()).toBe(body);
  });
});

describe("interim responses (RFC 9110 §15.2)", () => {
  it("interim-not-cached / interim-no-header-reuse: a 103 before the 200 is never stored, nor are its fields", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    const head =
      "HTTP/1.1 103 Early Hints\r\nlink: </styles.css>; rel=preload; as=style\r\nx-my-header: test\r\n\r\n" +
      `HTTP/1.1 200 OK\r\ncache-control: max-age=100000\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n${CONNECTION_CLOSE}\r\n`;
    await script(path, [{ raw: { head, parts: ["final"], end: "fin" } }]);
    const first = await brim.fetch(path);
    expect(first.status).toBe(200);
    expect(await first.text()).toBe("final");
    const hit = await brim.fetch(path);
    expect(hit.status).toBe(200);
    expect(hit.headers.get("cache-status")).toBe("Brim; hit; ttl=100000");
    expect(hit.headers.get("x-my-header")).toBeNull();
    expect(await hit.text()).toBe("final");
  });
});

describe("an origin status outside 200–599", () => {
  it("304-etag-update-response-Set-Cookie (setup): status 999 is the origin's error (502), not Brim's 500", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [
      { raw: { head: `HTTP/1.1 999 304 Not Generated\r\ncontent-length: 1\r\n${CONNECTION_CLOSE}\r\n`, parts: ["x"], end: "fin" } },
    ]);
    const res = await brim.fetch(path);
    expect(res.status).toBe(502);
    expect(res.headers.get("cache-status")).toBe("Brim; fwd=uri-miss; detail=origin-invalid-response");
    expect(brim.logs.some((e) => e.event === "internal-error")).toBe(false);
  });
});
