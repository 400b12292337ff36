import { describe, expect, it } from "vitest";
import { DEFAULT_COMPRESSIBLE_TYPES, isCompressibleType, shouldCompress } from "../../src/compress/policy";

const POLICY = { encodings: ["br", "gzip"] as const, minBytes: 1024, types: DEFAULT_COMPRESSIBLE_TYPES };

describe("isCompressibleType", () => {
  const cases: [string | null, boolean][] = [
    ["text/html; charset=utf-8", true],
    ["TEXT/PLAIN", true],
    ["application/json", true],
    ["application/problem+json", true],
    ["application/ld+json;profile=x", true],
    ["application/javascript", true],
    ["application/atom+xml", true],
    ["image/svg+xml", true],
    ["image/png", false],
    ["application/octet-stream", false],
    ["video/mp4", false],
    ["application/zip", false],
    ["", false],
    [null, false],
    ["garbage", false],
  ];
  for (const [type, expected] of cases)
    it(`${JSON.stringify(type)} → ${expected}`, () => expect(isCompressibleType(type, DEFAULT_COMPRESSIBLE_TYPES)).toBe(expected));
});

describe("shouldCompress", () => {
  const h = (init: Record<string, string>) => new Headers({ "content-type": "application/json", ...init });
  it("compresses a large enough JSON 200, and bodies of unknown length", () => {
    expect(shouldCompress(200, h({ "content-length": "5000" }), POLICY)).toBe(true);
    expect(shouldCompress(200, h({}), POLICY)).toBe(true);
  });
  it("leaves alone small bodies, 204/206/304, no-transform, encoded or ranged responses", () => {
    expect(shouldCompress(200, h({ "content-length": "1023" }), POLICY)).toBe(false);
    for (const status of [204, 206, 304]) expect(shouldCompress(status, h({}), POLICY)).toBe(false);
    expect(shouldCompress(200, h({ "cache-control": "public, No-Transform" }), POLICY)).toBe(false);
    expect(shouldCompress(200, h({ "content-encoding": "gzip" }), POLICY)).toBe(false);
    expect(shouldCompress(200, h({ "content-range": "bytes 0-1/2" }), POLICY)).toBe(false);
    expect(shouldCompress(200, new Headers({ "content-type": "image/png" }), POLICY)).toBe(false);
  });
});
