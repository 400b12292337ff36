/**
 * Invalidation after unsafe methods (RFC 9111 §4.4): a non-error response invalidates the
 * target URI and, on the same origin, the Location / Content-Location URIs; an error response
 * invalidates nothing. Unsafe requests are forwarded with `Cache-Status: Brim; fwd=method`.
 */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/tenant/load";
import { testBrim, type TestBrim } from "../support/brim";
import { count, originUrl, script, uniquePath, type ResponseSpec } from "../support/origin";

/**
 * Coalescing is off here so these tests exercise invalidation alone; its interaction with the
 * Coalescer's just-completed-response buffer has its own describe block at the end.
 */
const CACHED = { path: "/*", cache: { coalesce: false } };
const COALESCED = { path: "/*", cache: {} };
const FRESH = { "cache-control": "max-age=600", "content-type": "text/plain" };
/** A cacheable GET answer whose body says which origin request produced it. */
const GET_OK: ResponseSpec = { headers: FRESH, body: "{method} #{count}" };
const UNSAFE = ["POST", "PUT", "PATCH", "DELETE"] as const;

/** Stores `path` with a GET and checks that a second GET is a hit. */
async function storeAndConfirm(brim: TestBrim, path: string, host?: string): Promise<string> {
  const first = await brim.fetch(path, host ? { host } : {});
  expect(first.headers.get("cache-status")).toMatch(/stored$/);
  const body = await first.text();
  const hit = await brim.fetch(path, host ? { host } : {});
  expect(hit.headers.get("cache-status")).toMatch(/^Brim; hit/);
  expect(await hit.text()).toBe(body);
  return body;
}

async function expectHit(brim: TestBrim, path: string, body: string, host?: string): Promise<void> {
  const res = await brim.fetch(path, host ? { host } : {});
  expect(res.headers.get("cache-status"), `${path} should still be stored`).toMatch(/^Brim; hit/);
  expect(await res.text()).toBe(body);
}

async function expectMiss(brim: TestBrim, path: string, host?: string): Promise<string> {
  const res = await brim.fetch(path, host ? { host } : {});
  expect(res.headers.get("cache-status"), `${path} should have been invalidated`).toBe("Brim; fwd=uri-miss; fwd-status=200; stored");
  return res.text();
}

/** A cache whose deletes take `ms`: an invalidation left to run after the response would lose the race. */
function slowDeletes(cache: Cache, ms: number): Cache {
  return {
    match: (request, options) => cache.match(request, options),
    put: (request, response) => cache.put(request, response),
    delete: async (request, options) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return cache.delete(request, options);
    },
  };
}

function unsafe(brim: TestBrim, path: string, method: string, host?: string): Promise<Response> {
  return brim.fetch(path, { method, ...(method === "DELETE" ? {} : { body: "change" }), ...(host ? { host } : {}) });
}

describe("a non-error response invalidates the target URI", () => {
  const cases = UNSAFE.flatMap((method) => [200, 204, 303].map((status) => [method, status] as const));

  it.each(cases)("%s answered %i: the next GET is a miss", async (method, status) => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    const answer: ResponseSpec =
      status === 204 ? { status } : { status, body: "done", ...(status === 303 ? { headers: { location: "/done" } } : {}) };
    await script(path, [GET_OK, answer, GET_OK]);
    expect(await storeAndConfirm(brim, path)).toBe("GET #1");

    const res = await unsafe(brim, path, method);
    expect(res.status).toBe(status);
    expect(res.headers.get("cache-status")).toBe("Brim; fwd=method");

    expect(await expectMiss(brim, path)).toBe("GET #3");
    expect(await count(path)).toBe(3);
  });

  it("invalidation is complete when the response arrives: the GET after a 303 is a miss", async () => {
    const brim = testBrim({ acme: [CACHED] }, { cache: async () => slowDeletes(caches.default, 300) });
    const path = uniquePath();
    await script(path, [GET_OK, { status: 303, headers: { location: path } }, GET_OK]);
    await storeAndConfirm(brim, path);
    // No waiting for background work: the (slow) invalidation is done when the 303 arrives.
    const redirect = await brim.fetch(path, { method: "POST", body: "form", background: false });
    expect(redirect.status).toBe(303);
    await redirect.body?.cancel();
    const res = await brim.fetch(path, { background: false });
    expect(res.headers.get("cache-status")).toMatch(/^Brim; fwd=uri-miss/);
    expect(await res.text()).toBe("GET #3");
  });

  it("any method not known to be safe invalidates too (PROPPATCH)", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [GET_OK, { status: 200, body: "patched" }, GET_OK]);
    await storeAndConfirm(brim, path);
    const res = await brim.fetch(path, { method: "PROPPATCH", body: "<propertyupdate/>" });
    expect([res.status, res.headers.get("cache-status")]).toStrictEqual([200, "Brim; fwd=method"]);
    expect(await expectMiss(brim, path)).toBe("GET #3");
  });

  it("OPTIONS is safe: it invalidates nothing", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [GET_OK, { status: 204, headers: { allow: "GET, POST" } }, GET_OK]);
    const body = await storeAndConfirm(brim, path);
    const res = await brim.fetch(path, { method: "OPTIONS" });
    expect([res.status, res.headers.get("cache-status")]).toStrictEqual([204, "Brim; fwd=method"]);
    await expectHit(brim, path, body);
  });

  it("the target is matched under the route's key: unkeyed query parameters do not matter", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { coalesce: false, key: { query: ["page"] } } }] });
    const path = uniquePath();
    await script(path, [GET_OK, GET_OK, { status: 200 }, GET_OK]);
    await storeAndConfirm(brim, `${path}?page=2`);
    const other = await (await brim.fetch(`${path}?page=3`)).text();
    await unsafe(brim, `${path}?utm=x&page=2`, "POST");
    expect(await expectMiss(brim, `${path}?page=2&ref=y`)).toBe("GET #4");
    await expectHit(brim, `${path}?page=3`, other);
  });

  it("every Vary variant of the target is invalidated", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    const varied: ResponseSpec = { headers: { ...FRESH, vary: "accept-language" }, body: "{header:accept-language} #{count}" };
    await script(path, [varied, varied, { status: 204 }, varied]);
    for (const lang of ["de", "fr"]) await brim.fetch(path, { headers: { "accept-language": lang } });
    const de = await brim.fetch(path, { headers: { "accept-language": "de" } });
    expect([de.headers.get("cache-status")?.startsWith("Brim; hit"), await de.text()]).toStrictEqual([true, "de #1"]);

    await unsafe(brim, path, "DELETE");
    for (const lang of ["fr", "de"]) {
      const res = await brim.fetch(path, { headers: { "accept-language": lang } });
      expect(res.headers.get("cache-status"), lang).toMatch(/^Brim; fwd=(uri|vary)-miss/);
    }
    expect(await count(path)).toBe(5);
  });
});

describe("Location and Content-Location on the same host are invalidated too", () => {
  it("relative and absolute targets, with the request URI", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const [path, located, described] = [uniquePath(), uniquePath(), uniquePath()];
    for (const p of [located, described]) await script(p, [GET_OK]);
    await script(path, [
      GET_OK,
      { status: 201, headers: { location: located, "content-location": `http://acme.test${described}` }, body: "created" },
      GET_OK,
    ]);
    await storeAndConfirm(brim, path);
    await storeAndConfirm(brim, located);
    await storeAndConfirm(brim, described);

    const res = await unsafe(brim, path, "POST");
    expect([res.status, res.headers.get("location"), res.headers.get("cache-status")]).toStrictEqual([201, located, "Brim; fwd=method"]);

    await expectMiss(brim, path);
    await expectMiss(brim, located);
    await expectMiss(brim, described);
    expect([await count(located), await count(described)]).toStrictEqual([2, 2]);
  });

  it("a Location with a query is invalidated under its normalised key", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const [path, target] = [uniquePath(), uniquePath()];
    await script(target, [GET_OK]);
    await script(path, [{ status: 303, headers: { location: `${target}?b=2&a=1` } }]);
    await storeAndConfirm(brim, `${target}?a=1&b=2`);
    await unsafe(brim, path, "PUT");
    await expectMiss(brim, `${target}?a=1&b=2`);
  });

  it("a Location on a cacheable route is invalidated even when the request's own route is not cached", async () => {
    const brim = testBrim({ acme: [{ path: "/api/*", cache: false }, CACHED] });
    const [api, item] = [uniquePath("/api"), uniquePath()];
    await script(item, [GET_OK]);
    await script(api, [{ status: 201, headers: { location: item }, body: "created" }]);
    await storeAndConfirm(brim, item);
    const res = await unsafe(brim, api, "POST");
    expect([res.status, res.headers.get("cache-status")]).toStrictEqual([201, "Brim; fwd=bypass"]);
    await expectMiss(brim, item);
  });

  it("a 3xx answer invalidates its Location as well", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const [path, target] = [uniquePath(), uniquePath()];
    await script(target, [GET_OK]);
    await script(path, [{ status: 302, headers: { location: target } }]);
    await storeAndConfirm(brim, target);
    const res = await unsafe(brim, path, "PATCH");
    expect([res.status, res.headers.get("location")]).toStrictEqual([302, target]);
    await expectMiss(brim, target);
  });
});

describe("what is never invalidated", () => {
  it.each([400, 403, 404, 409, 500, 502, 503])("a %i answer invalidates nothing, not even the request URI", async (status) => {
    const brim = testBrim({ acme: [CACHED] });
    const [path, located] = [uniquePath(), uniquePath()];
    await script(located, [GET_OK]);
    await script(path, [GET_OK, { status, headers: { location: located, "content-location": located }, body: "no" }]);
    const body = await storeAndConfirm(brim, path);
    const locatedBody = await storeAndConfirm(brim, located);

    const res = await unsafe(brim, path, "POST");
    expect([res.status, res.headers.get("cache-status")]).toStrictEqual([status, "Brim; fwd=method"]);
    await expectHit(brim, path, body);
    await expectHit(brim, located, locatedBody);
    expect(await count(path)).toBe(2);
  });

  it("an unreachable origin invalidates nothing", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [GET_OK, { reset: true }]);
    const body = await storeAndConfirm(brim, path);
    const res = await unsafe(brim, path, "DELETE");
    expect([res.status, res.headers.get("cache-status")]).toStrictEqual([502, "Brim; fwd=method; detail=origin-unreachable"]);
    await expectHit(brim, path, body);
  });

  it.each([
    ["another host", "http://elsewhere.example"],
    ["another host of the same tenant", "http://www.acme.test"],
    ["another tenant's host", "http://globex.test"],
    ["another scheme", "https://acme.test"],
    ["another port", "http://acme.test:8080"],
  ])("a Location on %s (a different origin, RFC 9111 §4.4)", async (_, origin) => {
    const config = loadConfig({
      tenants: [
        { id: "acme", hosts: ["acme.test", "www.acme.test", "acme.test:8080"], origin: originUrl(), routes: [CACHED] },
        { id: "globex", hosts: ["globex.test"], origin: originUrl(), routes: [CACHED] },
      ],
    });
    const brim = testBrim({ acme: [CACHED] }, { config });
    const [path, target] = [uniquePath(), uniquePath()];
    await script(target, [GET_OK]);
    await script(path, [{ status: 201, headers: { location: `${origin}${target}`, "content-location": `${origin}${target}` } }]);
    const acmeBody = await storeAndConfirm(brim, target, "acme.test");
    const globexBody = await storeAndConfirm(brim, target, "globex.test");

    await unsafe(brim, path, "POST", "acme.test");
    await expectHit(brim, target, acmeBody, "acme.test");
    await expectHit(brim, target, globexBody, "globex.test");
  });

  it("one tenant's unsafe request never invalidates another tenant's entry", async () => {
    const brim = testBrim({ acme: [CACHED], globex: [CACHED] });
    const path = uniquePath();
    await script(path, [GET_OK, GET_OK, { status: 204 }, GET_OK]);
    await storeAndConfirm(brim, path, "acme.test");
    const globex = await storeAndConfirm(brim, path, "globex.test");
    await unsafe(brim, path, "DELETE", "acme.test");
    await expectHit(brim, path, globex, "globex.test");
    await expectMiss(brim, path, "acme.test");
  });

  it("safe methods invalidate nothing", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [GET_OK]);
    const body = await storeAndConfirm(brim, path);
    await brim.fetch(path, { method: "HEAD" });
    await brim.fetch(path, { headers: { range: "bytes=0-1" } });
    await expectHit(brim, path, body);
  });
});

describe("with request coalescing (the default)", () => {
  it("a GET right after invalidation is not answered from the Coalescer's recent buffer", async () => {
    const brim = testBrim({ acme: [COALESCED] });
    const path = uniquePath();
    await script(path, [GET_OK, { status: 303, headers: { location: path } }, GET_OK]);
    expect(await storeAndConfirm(brim, path)).toBe("GET #1");
    expect((await unsafe(brim, path, "POST")).status).toBe(303);
    // RFC 9111 §4.4: the invalidated response must not be served again without revalidation.
    const res = await brim.fetch(path);
    expect(await res.text()).toBe("GET #3");
    expect(await count(path)).toBe(3);
  });
});
