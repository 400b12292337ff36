/**
 * Range requests on cacheable routes (RFC 9110 §14): answered from the cache by slicing the
 * whole stored response; a miss fetches the whole object (never the client's Range), stores it
 * and answers the part while it streams. See src/pipeline/range.ts and docs/caching.md.
 */
import { describe, expect, it } from "vitest";
import { count, generatedBody, requests, script, uniquePath } from "../support/origin";
import { testBrim } from "../support/brim";

const CACHED = { path: "/*", cache: {} };
const BODY = "0123456789abcdef";
const LAST_MODIFIED = "Tue, 01 Jul 2025 10:00:00 GMT";
const FRESH = { "cache-control": "max-age=60", "content-type": "video/mp4", etag: '"v1"', "last-modified": LAST_MODIFIED };
const HIT = /^Brim; hit; ttl=\d+$/;

/** The body as text, without workerd's warning about reading video/mp4 as text. */
async function text(res: Response): Promise<string> {
  return new TextDecoder().decode(await res.arrayBuffer());
}

async function stored(headers: Record<string, string> = FRESH, body = BODY) {
  const brim = testBrim({ acme: [CACHED] });
  const path = uniquePath();
  await script(path, [{ headers, body }]);
  const full = await brim.fetch(path);
  expect(full.headers.get("cache-status")).toBe("Brim; fwd=uri-miss; fwd-status=200; stored");
  expect(await text(full)).toBe(body);
  return { brim, path };
}

async function expectPart(res: Response, start: number, end: number, status: RegExp | string = HIT, body = BODY): Promise<void> {
  expect(res.status).toBe(206);
  expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${body.length}`);
  expect(res.headers.get("content-length")).toBe(String(end - start + 1));
  expect(res.headers.get("cache-status")).toMatch(status);
  expect(await text(res)).toBe(body.slice(start, end + 1));
}

describe("a Range hit is sliced from the stored response", () => {
  it.each([
    ["bytes=2-5", 2, 5],
    ["bytes=10-", 10, 15],
    ["bytes=-4", 12, 15],
    ["bytes=0-1000", 0, 15],
    ["bytes=15-15", 15, 15],
  ])("%s", async (range, start, end) => {
    const { brim, path } = await stored();
    const res = await brim.fetch(path, { headers: { range } });
    expect(res.headers.get("etag")).toBe('"v1"');
    expect(res.headers.get("last-modified")).toBe(LAST_MODIFIED);
    expect(res.headers.get("age")).not.toBeNull();
    await expectPart(res, start, end);
    expect(await count(path)).toBe(1);
  });

  it("an unsatisfiable range is 416 with the length, from the cache", async () => {
    const { brim, path } = await stored();
    const res = await brim.fetch(path, { headers: { range: "bytes=16-" } });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe("bytes */16");
    expect(res.headers.get("cache-status")).toMatch(HIT);
    expect(await text(res)).toBe("");
    expect(await count(path)).toBe(1);
  });

  it("an invalid Range, or one in another unit, is ignored: the full 200", async () => {
    const { brim, path } = await stored();
    for (const range of ["bytes=5-2", "items=0-1", "bytes=abc"]) {
      const res = await brim.fetch(path, { headers: { range } });
      expect([res.status, res.headers.get("content-range"), await text(res)], range).toStrictEqual([200, null, BODY]);
    }
  });

  it("HEAD ignores Range", async () => {
    const { brim, path } = await stored();
    const res = await brim.fetch(path, { method: "HEAD", headers: { range: "bytes=0-1" } });
    expect([res.status, res.headers.get("content-range"), res.body]).toStrictEqual([200, null, null]);
    expect(res.headers.get("cache-status")).toMatch(HIT);
  });

  it("a matching If-None-Match is answered 304 before Range is looked at (RFC 9110 §13.2.2)", async () => {
    const { brim, path } = await stored();
    const res = await brim.fetch(path, { headers: { range: "bytes=0-1", "if-none-match": '"v1"' } });
    expect(res.status).toBe(304);
  });

  it("a stored non-200 is served whole", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ status: 404, headers: { "cache-control": "max-age=60" }, body: "not here" }]);
    await brim.fetch(path);
    const res = await brim.fetch(path, { headers: { range: "bytes=0-1" } });
    expect([res.status, res.headers.get("content-range"), await text(res)]).toStrictEqual([404, null, "not here"]);
  });
});

describe("several ranges", () => {
  it("overlapping or adjacent ranges are coalesced into one part", async () => {
    const { brim, path } = await stored();
    await expectPart(await brim.fetch(path, { headers: { range: "bytes=4-7, 0-3, 6-9" } }), 0, 9);
  });

  it("disjoint ranges get the full 200 (no multipart/byteranges, as RFC 9110 §14.2 allows)", async () => {
    const { brim, path } = await stored();
    const res = await brim.fetch(path, { headers: { range: "bytes=0-1,10-11" } });
    expect([res.status, res.headers.get("content-range"), await text(res)]).toStrictEqual([200, null, BODY]);
    expect(res.headers.get("cache-status")).toMatch(HIT);
  });
});

describe("If-Range (RFC 9110 §13.1.5)", () => {
  it.each([
    ["the stored strong ETag: the part", '"v1"', 206],
    ["another ETag: the whole", '"v0"', 200],
    ["a weak ETag never matches: the whole", 'W/"v1"', 200],
    ["the stored Last-Modified, a second or more before Date: the part", LAST_MODIFIED, 206],
    ["another date: the whole", "Tue, 01 Jul 2025 09:00:00 GMT", 200],
  ])("%s", async (_, ifRange, status) => {
    const { brim, path } = await stored();
    const res = await brim.fetch(path, { headers: { range: "bytes=0-3", "if-range": ifRange } });
    expect(res.status).toBe(status);
    expect(await text(res)).toBe(status === 206 ? "0123" : BODY);
  });

  it("a weak stored ETag: If-Range fails, the whole", async () => {
    const { brim, path } = await stored({ ...FRESH, etag: 'W/"v1"' });
    const res = await brim.fetch(path, { headers: { range: "bytes=0-3", "if-range": 'W/"v1"' } });
    expect([res.status, await text(res)]).toStrictEqual([200, BODY]);
  });
});

describe("a Range miss fills the cache with the whole object", () => {
  for (const coalesce of [true, false]) {
    it(`${coalesce ? "coalesced" : "direct"}: the origin gets no Range, the client its part, the next request hits`, async () => {
      const brim = testBrim({ acme: [{ path: "/*", cache: { coalesce } }] });
      const path = uniquePath();
      await script(path, [{ headers: FRESH, body: BODY }]);
      const res = await brim.fetch(path, { headers: { range: "bytes=3-6", "if-range": '"v1"' } });
      await expectPart(res, 3, 6, "Brim; fwd=uri-miss; fwd-status=200; stored");
      const [seen] = (await requests(path)).requests;
      expect([seen?.headers.range, seen?.headers["if-range"]]).toStrictEqual([undefined, undefined]);

      const full = await brim.fetch(path);
      expect([full.headers.get("cache-status")?.match(HIT) !== null, await text(full)]).toStrictEqual([true, BODY]);
      await expectPart(await brim.fetch(path, { headers: { range: "bytes=-2" } }), 14, 15);
      expect(await count(path)).toBe(1);
    });
  }

  it("an unsatisfiable Range miss is 416 and still stores the object", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH, body: BODY }]);
    const res = await brim.fetch(path, { headers: { range: "bytes=99-" } });
    expect([res.status, res.headers.get("content-range")]).toStrictEqual([416, "bytes */16"]);
    expect((await brim.fetch(path)).headers.get("cache-status")).toMatch(HIT);
    expect(await count(path)).toBe(1);
  });

  it("without Content-Length (chunked) the miss answers the full 200; the stored copy answers ranges", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: { ...FRESH, "transfer-encoding": "chunked" }, body: BODY }]);
    const miss = await brim.fetch(path, { headers: { range: "bytes=0-3" } });
    expect([miss.status, miss.headers.get("cache-status"), await text(miss)]).toStrictEqual([
      200,
      "Brim; fwd=uri-miss; fwd-status=200; stored",
      BODY,
    ]);
    await expectPart(await brim.fetch(path, { headers: { range: "bytes=0-3" } }), 0, 3);
    expect(await count(path)).toBe(1);
  });

  it("an object over maxObjectBytes is not stored: the client's Range goes to the origin", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { maxObjectBytes: 1000 } }] });
    const path = uniquePath();
    await script(path, [
      { headers: FRESH, bodyBytes: 5000 },
      { status: 206, headers: { ...FRESH, "content-range": "bytes 10-19/5000" }, body: generatedBody(20).slice(10) },
    ]);
    const res = await brim.fetch(path, { headers: { range: "bytes=10-19" } });
    expect([res.status, res.headers.get("content-range"), await text(res)]).toStrictEqual([
      206,
      "bytes 10-19/5000",
      generatedBody(20).slice(10),
    ]);
    expect(res.headers.get("cache-status")).toBe("Brim; fwd=uri-miss; detail=not-stored-too-large");
    const seen = (await requests(path)).requests;
    expect(seen.map((r) => r.headers.range)).toStrictEqual([undefined, "bytes=10-19"]);
  });
});

describe("encoded variants are never sliced", () => {
  const COMPRESSIBLE = { "cache-control": "max-age=60", "content-type": "application/json", etag: '"j1"' };
  const JSON_BODY = JSON.stringify({ items: Array.from({ length: 300 }, (_, i) => ({ id: i, title: `Item ${i}` })) });

  it("a client that negotiated br gets the whole compressed 200; an identity client gets its part", async () => {
    const brim = testBrim({ acme: [CACHED] });
    const path = uniquePath();
    await script(path, [{ headers: COMPRESSIBLE, body: JSON_BODY }]);
    const br = await brim.fetch(path, { headers: { range: "bytes=0-9", "accept-encoding": "br" } });
    expect([br.status, br.headers.get("content-encoding"), br.headers.get("content-range")]).toStrictEqual([200, "br", null]);
    const again = await brim.fetch(path, { headers: { range: "bytes=0-9", "accept-encoding": "br" } });
    expect([again.status, again.headers.get("cache-status")?.match(HIT) !== null]).toStrictEqual([200, true]);
    await again.arrayBuffer();

    const identity = await brim.fetch(path, { headers: { range: "bytes=0-9", "accept-encoding": "identity" } });
    await expectPart(identity, 0, 9, /^Brim; fwd=vary-miss; fwd-status=200; stored/, JSON_BODY);
    await expectPart(
      await brim.fetch(path, { headers: { range: "bytes=-5", "accept-encoding": "identity" } }),
      JSON_BODY.length - 5,
      JSON_BODY.length - 1,
      HIT,
      JSON_BODY,
    );
  });
});

describe("segmented entries (bodies over 4 MiB)", () => {
  it("a range across and after segment boundaries reads the right bytes", async () => {
    const size = 9 * 1024 * 1024 + 123;
    const { brim, path } = await storedLarge(size);
    const whole = generatedBody(size);
    const boundary = 4 * 1024 * 1024;
    for (const [start, end] of [
      [boundary - 5, boundary + 4],
      [2 * boundary + 7, size - 1],
      [0, 3],
      [boundary, boundary],
    ] as const) {
      const res = await brim.fetch(path, { headers: { range: `bytes=${start}-${end}` } });
      expect(res.status).toBe(206);
      expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${size}`);
      expect((await text(res)) === whole.slice(start, end + 1), `${start}-${end}`).toBe(true);
    }
    expect(await count(path)).toBe(1);
    // Heavy (9 MiB written and read back): an explicit budget for a busy machine.
  }, 60_000);
});

async function storedLarge(size: number) {
  const brim = testBrim({ acme: [CACHED] });
  const path = uniquePath();
  await script(path, [{ headers: FRESH, bodyBytes: size }]);
  await (await brim.fetch(path)).arrayBuffer();
  return { brim, path };
}
