import { describe, expect, it } from "vitest";
import { count, script, uniquePath } from "../support/origin";
import { testBrim } from "../support/brim";

const CATALOG = { path: "/*", cache: {} };

describe("miss, hit, fresh and expired", () => {
  it("stores a fresh response on a miss and serves it from cache on the next request", async () => {
    const brim = testBrim({ acme: [CATALOG] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60", "content-type": "text/plain" }, body: "v{count}" }]);

    const first = await brim.fetch(path);
    expect(first.status).toBe(200);
    expect(await first.text()).toBe("v1");
    expect(first.headers.get("cache-status")).toBe("Brim; fwd=uri-miss; fwd-status=200; stored");
    expect(first.headers.get("cache-control")).toBe("max-age=60");

    brim.clock.advance(10);
    const second = await brim.fetch(path);
    expect(await second.text()).toBe("v1");
    expect(second.headers.get("cache-status")).toMatch(/^Brim; hit; ttl=(49|50)$/);
    expect(Number(second.headers.get("age"))).toBeGreaterThanOrEqual(10);
    expect(second.headers.get("cache-control")).toBe("max-age=60");
    expect(second.headers.get("x-brim-meta")).toBeNull();
    expect(await count(path)).toBe(1);
  });

  it("fetches again once the entry is stale and there is no stale window or validator", async () => {
    const brim = testBrim({ acme: [CATALOG] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=5" }, body: "v{count}" }]);
    await brim.fetch(path);
    brim.clock.advance(6);
    const res = await brim.fetch(path);
    expect(await res.text()).toBe("v2");
    expect(res.headers.get("cache-status")).toBe("Brim; fwd=stale; fwd-status=200; stored");
    expect(await count(path)).toBe(2);
  });

  it("does not reuse a response without explicit freshness when the route sets no ttl", async () => {
    const brim = testBrim({ acme: [CATALOG] });
    const path = uniquePath();
    await script(path, [{ body: "v{count}" }]);
    expect(await (await brim.fetch(path)).text()).toBe("v1");
    const res = await brim.fetch(path);
    expect(await res.text()).toBe("v2");
    expect(res.headers.get("cache-status")).toBe("Brim; fwd=uri-miss; fwd-status=200; detail=not-stored-no-freshness");
  });

  it("applies the route ttl when the origin gives no freshness, and not when it does", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { ttl: 30 } }] });
    const plain = uniquePath();
    const explicit = uniquePath();
    await script(plain, [{ body: "p{count}" }]);
    await script(explicit, [{ headers: { "cache-control": "max-age=5" }, body: "e{count}" }]);
    await brim.fetch(plain);
    await brim.fetch(explicit);
    brim.clock.advance(10);
    expect(await (await brim.fetch(plain)).text()).toBe("p1");
    expect(await (await brim.fetch(explicit)).text()).toBe("e2");
  });

  it("with override, the route ttl replaces the origin's max-age", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { ttl: 100, override: true } }] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=1" }, body: "v{count}" }]);
    await brim.fetch(path);
    brim.clock.advance(50);
    const res = await brim.fetch(path);
    expect(await res.text()).toBe("v1");
    expect(res.headers.get("cache-status")).toMatch(/^Brim; hit; ttl=(49|50)$/);
  });

  it("never caches a route with cache: false, and says so", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: false }] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "v{count}" }]);
    await brim.fetch(path);
    const res = await brim.fetch(path);
    expect(await res.text()).toBe("v2");
    expect(res.headers.get("cache-status")).toBe("Brim; fwd=bypass");
  });

  it("answers HEAD from a stored GET, with no body", async () => {
    const brim = testBrim({ acme: [CATALOG] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60", "content-type": "text/plain" }, body: "hello" }]);
    await brim.fetch(path);
    const head = await brim.fetch(path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(head.body).toBeNull();
    expect(await count(path)).toBe(1);
  });

  it("fills the cache on a HEAD miss with a GET to the origin", async () => {
    const brim = testBrim({ acme: [CATALOG] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "hello" }]);
    const head = await brim.fetch(path, { method: "HEAD" });
    expect(head.status).toBe(200);
    const get = await brim.fetch(path);
    expect(await get.text()).toBe("hello");
    expect(get.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await count(path)).toBe(1);
  });
});

describe("origins that compress their own responses", () => {
  it("with compression off, a gzip response is served intact on the miss and on the hit (never encoded twice)", async () => {
    const brim = testBrim({ acme: [{ ...CATALOG, compression: false }] });
    const path = uniquePath();
    const text = "hello world ".repeat(200);
    await script(path, [{ headers: { "cache-control": "max-age=60", "content-type": "text/plain" }, body: text, gzip: true }]);
    for (const expected of [/^Brim; fwd=uri-miss/, /^Brim; hit/]) {
      const res = await brim.fetch(path, { headers: { "accept-encoding": "gzip" } });
      expect(res.headers.get("cache-status")).toMatch(expected);
      expect(res.headers.get("content-encoding")).toBe("gzip");
      // workerd hands the Worker decoded bytes either way; a double encoding would decode to gzip bytes here.
      expect(await res.text()).toBe(text);
    }
    expect(await count(path)).toBe(1);
  });
});
