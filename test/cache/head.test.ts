/**
 * HEAD and GET agree on every representation header (RFC 9110 §9.3.2: HEAD gets the header
 * section GET would), whether the HEAD is a miss (Brim fills the cache with a GET) or a hit;
 * and `x-gzip` is `gzip` (RFC 9110 §8.4.1.3).
 */
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { testBrim } from "../support/brim";
import { script, uniquePath, type ResponseSpec } from "../support/origin";

const REPRESENTATION = ["content-length", "content-type", "etag", "content-encoding", "vary", "last-modified"];
const COMPRESSING = { path: "/*", cache: {} };
const PLAIN = { path: "/*", cache: {}, compression: false as const };
const LONG = "hello brim ".repeat(200);

function representation(res: Response): Record<string, string | null> {
  return Object.fromEntries(REPRESENTATION.map((name) => [name, res.headers.get(name)]));
}

const CASES: [name: string, route: typeof PLAIN | typeof COMPRESSING, spec: ResponseSpec, acceptEncoding: string | null][] = [
  [
    "small identity text, no compression",
    PLAIN,
    { headers: { "cache-control": "max-age=60", etag: '"v1"', "content-type": "text/plain" }, body: "short" },
    null,
  ],
  [
    "text Brim compresses, client accepts gzip",
    COMPRESSING,
    { headers: { "cache-control": "max-age=60", etag: '"v1"', "content-type": "text/plain" }, body: LONG },
    "gzip",
  ],
  [
    "text Brim compresses, client accepts x-gzip",
    COMPRESSING,
    { headers: { "cache-control": "max-age=60", etag: '"v1"', "content-type": "text/plain" }, body: LONG },
    "x-gzip",
  ],
  [
    "text Brim could compress, client accepts nothing",
    COMPRESSING,
    { headers: { "cache-control": "max-age=60", etag: '"v1"', "content-type": "text/plain" }, body: LONG },
    null,
  ],
  [
    "origin gzip passed through",
    COMPRESSING,
    { headers: { "cache-control": "max-age=60", etag: '"v1"', "content-type": "text/plain" }, body: LONG, gzip: true },
    "gzip",
  ],
  [
    "origin gzip, client without gzip",
    COMPRESSING,
    { headers: { "cache-control": "max-age=60", etag: '"v1"', "content-type": "text/plain" }, body: LONG, gzip: true },
    null,
  ],
];

describe("HEAD carries the representation headers GET would", () => {
  it.each(CASES)("%s: HEAD miss = GET miss, HEAD hit = GET hit", async (_name, route, spec, acceptEncoding) => {
    const headers: Record<string, string> = acceptEncoding ? { "accept-encoding": acceptEncoding } : {};
    // HEAD first: a HEAD miss fills the cache with a GET.
    const headFirst = testBrim({ acme: [route] });
    const a = uniquePath();
    await script(a, [spec]);
    const headMiss = await headFirst.fetch(a, { method: "HEAD", headers });
    expect(headMiss.headers.get("cache-status")).toMatch(/fwd=uri-miss/);
    const getHit = await headFirst.fetch(a, { headers });
    expect(getHit.headers.get("cache-status")).toMatch(/^Brim; hit/);
    await getHit.arrayBuffer();

    // GET first.
    const getFirst = testBrim({ acme: [route] });
    const b = uniquePath();
    await script(b, [spec]);
    const getMiss = await getFirst.fetch(b, { headers });
    await getMiss.arrayBuffer();
    const headHit = await getFirst.fetch(b, { method: "HEAD", headers });
    expect(headHit.headers.get("cache-status")).toMatch(/^Brim; hit/);

    expect(headMiss.status).toBe(getMiss.status);
    expect(representation(headMiss)).toEqual(representation(getMiss));
    expect(representation(headHit)).toEqual(representation(getHit));
    expect(await headMiss.text()).toBe("");
    expect(await headHit.text()).toBe("");
  });
});

describe("x-gzip (RFC 9110 §8.4.1.3)", () => {
  it("a client that accepts only x-gzip gets gzip, decodable, with Vary: Accept-Encoding", async () => {
    const brim = testBrim({ acme: [COMPRESSING] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60", "content-type": "text/plain" }, body: LONG }]);
    for (const status of [/fwd=uri-miss/, /^Brim; hit/]) {
      const res = await brim.fetch(path, { headers: { "accept-encoding": "x-gzip" } });
      expect(res.headers.get("cache-status")).toMatch(status);
      expect(res.headers.get("content-encoding")).toBe("gzip");
      expect(res.headers.get("vary")?.toLowerCase()).toContain("accept-encoding");
      expect(gunzipSync(new Uint8Array(await res.arrayBuffer())).toString()).toBe(LONG);
    }
  });

  it("shares the gzip variant with clients that say gzip", async () => {
    const brim = testBrim({ acme: [COMPRESSING] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60", "content-type": "text/plain" }, body: LONG }]);
    await (await brim.fetch(path, { headers: { "accept-encoding": "gzip" } })).arrayBuffer();
    const res = await brim.fetch(path, { headers: { "accept-encoding": "x-gzip" } });
    expect(res.headers.get("cache-status")).toMatch(/^Brim; hit/);
    await res.arrayBuffer();
  });
});
