/**
 * zstd produced by Brim (src/compress/zstd.ts, WebAssembly) on routes that list it, checked
 * byte for byte by Node's native libzstd on the test origin, at sizes well past the ~64 KiB
 * where workerd's own encoder fails; and how negotiation picks it.
 */
import { describe, expect, it } from "vitest";
import { compressionCount } from "../../src/compress/codec";
import { testBrim } from "../support/brim";
import { count, generatedBody, nodeDecode, script, uniquePath } from "../support/origin";
import { ZSTD_FRAME_BYTES } from "../../src/constants";

const ZSTD_ROUTE = { path: "/*", cache: {}, compression: { encodings: ["br", "gzip", "zstd"] } };
const TEXT = { "cache-control": "max-age=60", "content-type": "text/plain" };

/** Pseudo-random text (compresses, but not to nothing), as in test/compress/codec.test.ts. */
function noisy(n: number): string {
  let text = "";
  let x = 4242;
  while (text.length < n) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    text += x.toString(36) + (x % 7 === 0 ? "\n" : " ");
  }
  return text.slice(0, n);
}

describe("zstd round trips through Brim, decoded by Node's libzstd", () => {
  for (const size of [1024, 100 * 1024, 1024 * 1024]) {
    it(`${size} bytes: a miss and then a hit send zstd that decodes to the origin's bytes`, async () => {
      const brim = testBrim({ acme: [ZSTD_ROUTE] });
      const path = uniquePath();
      const body = noisy(size);
      await script(path, [{ headers: TEXT, body }]);
      const before = compressionCount();
      const miss = await brim.fetch(path, { headers: { "accept-encoding": "zstd" } });
      expect(miss.headers.get("content-encoding")).toBe("zstd");
      expect(miss.headers.get("vary")).toBe("accept-encoding");
      const missBytes = new Uint8Array(await miss.arrayBuffer());
      expect(missBytes.byteLength).toBeLessThan(size);
      expect(new TextDecoder().decode(await nodeDecode("zstd", missBytes)) === body, "miss decodes to the origin's body").toBe(true);

      const hit = await brim.fetch(path, { headers: { "accept-encoding": "zstd" } });
      expect(hit.headers.get("cache-status")).toMatch(/^Brim; hit/);
      expect(hit.headers.get("content-encoding")).toBe("zstd");
      expect(new Uint8Array(await hit.arrayBuffer())).toEqual(missBytes);
      expect(compressionCount() - before).toBe(1);
      expect(await count(path)).toBe(1);
    });
  }

  it(`a body of several ${ZSTD_FRAME_BYTES / 1024} KiB frames, streamed by the origin in chunks, decodes whole`, async () => {
    const brim = testBrim({ acme: [ZSTD_ROUTE] });
    const path = uniquePath();
    const size = 3 * ZSTD_FRAME_BYTES + 12_345;
    await script(path, [{ headers: TEXT, bodyBytes: size, chunkDelayMs: 1 }]);
    const res = await brim.fetch(path, { headers: { "accept-encoding": "zstd" } });
    expect(res.headers.get("content-encoding")).toBe("zstd");
    const decoded = new TextDecoder().decode(await nodeDecode("zstd", new Uint8Array(await res.arrayBuffer())));
    expect(decoded.length).toBe(size);
    expect(decoded === generatedBody(size), "decodes to the generated body").toBe(true);
  });

  it("an uncached route compresses with zstd too (proxied responses)", async () => {
    const brim = testBrim({ acme: [{ ...ZSTD_ROUTE, cache: false }] });
    const path = uniquePath();
    const body = noisy(200_000);
    await script(path, [{ headers: { "content-type": "text/plain" }, body }]);
    const res = await brim.fetch(path, { headers: { "accept-encoding": "zstd" } });
    expect(res.headers.get("content-encoding")).toBe("zstd");
    expect(new TextDecoder().decode(await nodeDecode("zstd", new Uint8Array(await res.arrayBuffer()))) === body).toBe(true);
  });
});

describe("negotiation with zstd listed", () => {
  // RFC 9110 §12.5.3: the client's q-values decide; at equal quality the route's order does.
  it.each([
    [["br", "gzip", "zstd"], "gzip, deflate, br, zstd", "br"],
    [["br", "gzip", "zstd"], "zstd", "zstd"],
    [["br", "gzip", "zstd"], "br;q=0.5, zstd", "zstd"],
    [["br", "gzip", "zstd"], "zstd, gzip", "gzip"],
    [["zstd", "br", "gzip"], "gzip, deflate, br, zstd", "zstd"],
    [["br", "gzip"], "zstd", null],
  ] as const)("encodings %j, Accept-Encoding %j → %s", async (encodings, accept, coding) => {
    const brim = testBrim({ acme: [{ ...ZSTD_ROUTE, compression: { encodings } }] });
    const path = uniquePath();
    const body = noisy(5000);
    await script(path, [{ headers: TEXT, body }]);
    const res = await brim.fetch(path, { headers: { "accept-encoding": accept } });
    expect(res.headers.get("content-encoding")).toBe(coding);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const decoded = coding === null ? bytes : await nodeDecode(coding, bytes);
    expect(new TextDecoder().decode(decoded)).toBe(body);
  });
});
