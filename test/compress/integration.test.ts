import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { compressionCount } from "../../src/compress/codec";
import { formatHttpDate } from "../../src/http/http-date";
import { count, requests, script, uniquePath } from "../support/origin";
import { testBrim } from "../support/brim";

const ROUTE = { path: "/*", cache: {} };
const JSON_BODY = JSON.stringify({
  items: Array.from({ length: 1500 }, (_, i) => ({ id: i, title: `Item number ${i}`, price: i * 1.5, tags: ["new", "sale"] })),
});
const HTML_BODY = `<!doctype html><html><body>${Array.from({ length: 800 }, (_, i) => `<p class="row">Paragraph ${i} of the demo page</p>`).join("")}</body></html>`;
const FRESH_JSON = { "cache-control": "max-age=60", "content-type": "application/json", etag: '"v1"' };

const decode: Record<string, (b: Uint8Array) => Uint8Array> = {
  br: (b) => zlib.brotliDecompressSync(b),
  zstd: (b) => zlib.zstdDecompressSync(b),
  gzip: (b) => zlib.gunzipSync(b),
  identity: (b) => b,
};

async function bodyText(res: Response): Promise<string> {
  const coding = res.headers.get("content-encoding") ?? "identity";
  return new TextDecoder().decode(decode[coding]!(new Uint8Array(await res.arrayBuffer())));
}

describe("negotiated compression, paid once per variant", () => {
  for (const [accept, coding] of [
    ["br, gzip, zstd", "br"],
    ["zstd, gzip", "gzip"],
    ["zstd", null],
    ["gzip", "gzip"],
    ["identity", null],
    [null, null],
  ] as const) {
    it(`Accept-Encoding ${JSON.stringify(accept)} → ${coding ?? "identity"}, bytes round-trip, JSON and HTML`, async () => {
      const brim = testBrim({ acme: [ROUTE] });
      for (const [body, type] of [
        [JSON_BODY, "application/json"],
        [HTML_BODY, "text/html; charset=utf-8"],
      ] as const) {
        const path = uniquePath();
        await script(path, [{ headers: { "cache-control": "max-age=60", "content-type": type }, body }]);
        const res = await brim.fetch(path, accept === null ? {} : { headers: { "accept-encoding": accept as string } });
        expect(res.headers.get("content-encoding")).toBe(coding);
        expect(res.headers.get("vary")).toBe("accept-encoding");
        expect(await bodyText(res)).toBe(body);
      }
    });
  }

  it("the second request for a coding is a cache hit with no compression work, whatever the header string", async () => {
    const brim = testBrim({ acme: [ROUTE] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH_JSON, body: JSON_BODY }]);
    await brim.fetch(path, { headers: { "accept-encoding": "gzip, deflate, br" } });
    const before = compressionCount();
    const hit = await brim.fetch(path, { headers: { "accept-encoding": "br;q=1.0, gzip;q=0.5, *;q=0.1" } });
    expect(compressionCount()).toBe(before);
    expect(hit.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(hit.headers.get("content-encoding")).toBe("br");
    const bytes = new Uint8Array(await hit.arrayBuffer());
    expect(new TextDecoder().decode(zlib.brotliDecompressSync(bytes))).toBe(JSON_BODY);
    // Content-Length, when present, is the compressed length (RFC 9110 §8.6).
    const length = hit.headers.get("content-length");
    if (length !== null) expect(Number(length)).toBe(bytes.byteLength);
    expect(await count(path)).toBe(1);
  });

  it("each coding is its own entry: gzip after br is a vary-miss, then a hit; identity too", async () => {
    const brim = testBrim({ acme: [{ ...ROUTE, cache: { coalesce: false } }] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH_JSON, body: JSON_BODY }]);
    await brim.fetch(path, { headers: { "accept-encoding": "br" } });
    const gzipMiss = await brim.fetch(path, { headers: { "accept-encoding": "gzip" } });
    expect(gzipMiss.headers.get("cache-status")).toMatch(/^Brim; fwd=vary-miss; fwd-status=200; stored/);
    expect(gzipMiss.headers.get("content-encoding")).toBe("gzip");
    const gzipHit = await brim.fetch(path, { headers: { "accept-encoding": "gzip" } });
    expect(gzipHit.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await bodyText(gzipHit)).toBe(JSON_BODY);
    const identity = await brim.fetch(path);
    expect(identity.headers.get("content-encoding")).toBeNull();
    expect(await identity.text()).toBe(JSON_BODY);
    expect(await count(path)).toBe(3);
  });

  it("a client that accepts only gzip never gets br, even after br was cached", async () => {
    const brim = testBrim({ acme: [ROUTE] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH_JSON, body: JSON_BODY }]);
    await brim.fetch(path, { headers: { "accept-encoding": "br" } });
    for (let i = 0; i < 2; i++) {
      const res = await brim.fetch(path, { headers: { "accept-encoding": "gzip;q=1, br;q=0" } });
      expect(res.headers.get("content-encoding")).toBe("gzip");
      expect(await bodyText(res)).toBe(JSON_BODY);
    }
  });

  it("a strong ETag becomes weak on compressed variants, stays strong on identity, and conditionals get 304", async () => {
    const brim = testBrim({ acme: [ROUTE] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH_JSON, body: JSON_BODY }]);
    const br = await brim.fetch(path, { headers: { "accept-encoding": "br" } });
    expect(br.headers.get("etag")).toBe('W/"v1"');
    const identity = await brim.fetch(path);
    expect(identity.headers.get("etag")).toBe('"v1"');
    const conditional = await brim.fetch(path, { headers: { "accept-encoding": "br", "if-none-match": 'W/"v1"' } });
    expect(conditional.status).toBe(304);
    expect(conditional.headers.get("etag")).toBe('W/"v1"');
    expect(conditional.headers.get("vary")).toBe("accept-encoding");
    // The identity miss was answered by the Coalescer's kept copy of the same origin response.
    expect(await count(path)).toBe(1);
  });

  it("revalidating a stale compressed variant keeps its weak ETag and Vary after the origin's 304", async () => {
    const brim = testBrim({ acme: [ROUTE] });
    const path = uniquePath();
    await script(path, [{ headers: { ...FRESH_JSON, "cache-control": "max-age=5" }, body: JSON_BODY }]);
    await brim.fetch(path, { headers: { "accept-encoding": "br" } });
    brim.clock.advance(10);
    // The 304 is dated on the test clock, so the refreshed entry is fresh on that clock.
    await script(path, [
      { headers: { ...FRESH_JSON, "cache-control": "max-age=5", date: formatHttpDate(brim.clock.now()) }, body: JSON_BODY },
    ]);
    const revalidated = await brim.fetch(path, { headers: { "accept-encoding": "br" } });
    expect(revalidated.headers.get("cache-status")).toMatch(/fwd-status=304/);
    expect(revalidated.headers.get("etag")).toBe('W/"v1"');
    expect(revalidated.headers.get("content-encoding")).toBe("br");
    expect(await bodyText(revalidated)).toBe(JSON_BODY);
    const log = await requests(path);
    expect(log.requests[1]?.headers["if-none-match"]).toBe('W/"v1"');
    const hit = await brim.fetch(path, { headers: { "accept-encoding": "br" } });
    expect(hit.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await bodyText(hit)).toBe(JSON_BODY);
  });

  it("HEAD on a compressed variant has its headers and no body", async () => {
    const brim = testBrim({ acme: [ROUTE] });
    const path = uniquePath();
    await script(path, [{ headers: FRESH_JSON, body: JSON_BODY }]);
    await brim.fetch(path, { headers: { "accept-encoding": "br" } });
    const head = await brim.fetch(path, { method: "HEAD", headers: { "accept-encoding": "br" } });
    expect(head.headers.get("content-encoding")).toBe("br");
    expect(head.body).toBeNull();
  });

  it("does not compress small bodies, images, no-transform responses, 206s or routes with compression: false", async () => {
    const brim = testBrim({ acme: [{ path: "/off/*", cache: {}, compression: false }, ROUTE] });
    const cases: [string, Record<string, string>, string, number?][] = [
      [uniquePath(), { "content-type": "application/json" }, "{}"],
      [uniquePath(), { "content-type": "image/png" }, JSON_BODY],
      [uniquePath(), { "content-type": "application/json", "cache-control": "max-age=60, no-transform" }, JSON_BODY],
      [uniquePath("/off"), { "content-type": "application/json" }, JSON_BODY],
      [uniquePath(), { "content-type": "application/json", "content-range": `bytes 0-9/${JSON_BODY.length}` }, JSON_BODY.slice(0, 10), 206],
    ];
    for (const [path, headers, body, status] of cases) {
      await script(path, [{ status: status ?? 200, headers: { "cache-control": "max-age=60", ...headers }, body }]);
      const res = await brim.fetch(path, { headers: { "accept-encoding": "br, gzip", ...(status === 206 ? { range: "bytes=0-9" } : {}) } });
      expect(res.headers.get("content-encoding"), path).toBeNull();
      expect(await res.text()).toBe(body);
    }
  });

  it("an origin's own gzip is re-encoded as the client's best choice; its zstd is decoded", async () => {
    const brim = testBrim({ acme: [ROUTE] });
    const gz = uniquePath();
    await script(gz, [{ headers: { "cache-control": "max-age=60", "content-type": "application/json" }, body: JSON_BODY, gzip: true }]);
    const asBr = await brim.fetch(gz, { headers: { "accept-encoding": "br" } });
    expect(asBr.headers.get("content-encoding")).toBe("br");
    expect(await bodyText(asBr)).toBe(JSON_BODY);
    const asIdentity = await brim.fetch(gz, { headers: { "accept-encoding": "identity" } });
    expect(asIdentity.headers.get("content-encoding")).toBeNull();
    expect(await asIdentity.text()).toBe(JSON_BODY);

    const zs = uniquePath();
    await script(zs, [{ headers: { "cache-control": "max-age=60", "content-type": "application/json" }, body: JSON_BODY, zstd: true }]);
    // The default encodings (br, gzip) leave zstd out, so even a zstd-only client gets it decoded:
    // one variant per coding Brim chose, never origin bytes under another coding's key.
    const zstdOnly = await brim.fetch(zs, { headers: { "accept-encoding": "zstd" } });
    expect(zstdOnly.headers.get("content-encoding")).toBeNull();
    expect(await zstdOnly.text()).toBe(JSON_BODY);
    const decoded = await brim.fetch(zs, { headers: { "accept-encoding": "gzip" } });
    expect(decoded.headers.get("content-encoding")).toBe("gzip");
    expect(await bodyText(decoded)).toBe(JSON_BODY);
  });

  it("caps what it decodes from an origin's encoding (decompression bomb)", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { maxObjectBytes: 100_000 } }] });
    const path = uniquePath();
    await script(path, [
      { headers: { "cache-control": "max-age=60", "content-type": "text/plain" }, body: "0".repeat(5_000_000), zstd: true },
    ]);
    const res = await brim.fetch(path, { headers: { "accept-encoding": "gzip" }, background: false });
    await expect(res.arrayBuffer()).rejects.toThrow(/decode-limit: decoded body passes 100000 bytes/);
  });
});
