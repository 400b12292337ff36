import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ALL_CODINGS, negotiateEncoding, parseAcceptEncoding, type Chosen, type Coding } from "../../src/http/accept-encoding";

const TABLE: [header: string | null, expected: Chosen, allowed?: readonly Coding[]][] = [
  [null, "identity"],
  ["", "identity"],
  ["gzip", "gzip"],
  ["br", "br"],
  ["zstd", "zstd"],
  ["gzip, deflate, br", "br"],
  ["gzip, deflate, br, zstd", "br"],
  ["gzip, deflate, br, zstd", "zstd", ["zstd", "gzip"]],
  ["br;q=0, gzip", "gzip"],
  ["*", "br"],
  ["*;q=0", "identity"],
  ["*;q=0, gzip", "gzip"],
  ["identity;q=0", "identity"],
  ["identity;q=0, gzip;q=0.1", "gzip"],
  ["gzip;q=1.0, br;q=0.9", "gzip"],
  ["gzip;q=0.5, br;q=0.5, zstd;q=0.5", "br"],
  ["GZIP", "gzip"],
  ["Br;Q=1", "br"],
  ["  gzip ;  q=0.8 ,  br ; q=0.9  ", "br"],
  ["deflate", "identity"],
  // RFC 9110 §8.4.1.3: x-gzip is gzip.
  ["compress, x-gzip", "gzip"],
  ["x-gzip", "gzip"],
  ["X-GZIP;q=0.5, br;q=0.4", "gzip"],
  ["x-gzip", "identity", ["br"]],
  ["gzip;q=2", "identity"],
  ["gzip;q=-1", "identity"],
  ["gzip;q=0.1234", "identity"],
  ["gzip;q=abc, br", "br"],
  ["%%%, ;;;, ===", "identity"],
  ["\u0000\u00ff garbage", "identity"],
  ["br;q=0.001, identity;q=0.5", "identity"],
  ["identity, br;q=0.5", "identity"],
  ["identity;q=0.5, br;q=0.5", "br"],
  ["br", "identity", ["gzip"]],
  ["br", "identity", []],
  ["gzip", "identity", ["br"]],
  ["gzip, gzip;q=0", "gzip"],
  [`${"x".repeat(10_000)}, br`, "identity"],
  [`${"foo;q=0.5, ".repeat(200)}gzip`, "gzip"],
];

describe("negotiateEncoding: table", () => {
  for (const [header, expected, allowed = ALL_CODINGS] of TABLE) {
    it(`${JSON.stringify(header?.slice(0, 40))} with [${allowed.join(",")}] → ${expected}`, () => {
      expect(negotiateEncoding(header, allowed)).toBe(expected);
    });
  }
});

describe("parseAcceptEncoding", () => {
  it("reads q-values, lower-cases names and keeps the first of repeated members", () => {
    expect([...parseAcceptEncoding("GZip;q=0.5, br, gzip;q=1, *;q=0")]).toEqual([
      ["gzip", 0.5],
      ["br", 1],
      ["*", 0],
    ]);
  });

  it("reads x-gzip and x-compress as gzip and compress (RFC 9110 §8.4.1), first member winning", () => {
    expect([...parseAcceptEncoding("x-gzip;q=0.3, gzip, x-compress")]).toEqual([
      ["gzip", 0.3],
      ["compress", 1],
    ]);
  });
});

describe("negotiateEncoding: properties", () => {
  const allowedArb = fc.subarray([...ALL_CODINGS]);
  it("never throws and only returns an allowed coding or identity", () => {
    fc.assert(
      fc.property(fc.option(fc.string({ maxLength: 300 }), { nil: null }), allowedArb, (header, allowed) => {
        const chosen = negotiateEncoding(header, allowed);
        expect(chosen === "identity" || allowed.includes(chosen)).toBe(true);
      }),
    );
  });

  const member = fc.record({
    name: fc.constantFrom("br", "zstd", "gzip", "identity", "*", "deflate"),
    q: fc.integer({ min: 0, max: 1000 }),
  });
  it("never picks a coding the client gave q=0 while something acceptable exists", () => {
    fc.assert(
      fc.property(fc.array(member, { maxLength: 8 }), allowedArb, (members, allowed) => {
        const header = members.map((m) => `${m.name};q=${(m.q / 1000).toFixed(3)}`).join(", ");
        const chosen = negotiateEncoding(header, allowed);
        const first = new Map<string, number>();
        for (const m of members) if (!first.has(m.name)) first.set(m.name, m.q);
        const q = (name: string) => first.get(name) ?? first.get("*") ?? 0;
        if (chosen !== "identity") expect(q(chosen)).toBeGreaterThan(0);
        // The chosen coding is at least as acceptable as every other allowed one.
        for (const other of allowed) if (chosen !== "identity") expect(q(chosen)).toBeGreaterThanOrEqual(q(other));
      }),
    );
  });

  it("is insensitive to case and whitespace", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("br", "gzip", "zstd", "identity"), { minLength: 1, maxLength: 4 }), (names) => {
        const plain = names.join(",");
        const noisy = names.map((n) => `  ${n.toUpperCase()}  `).join(" ,\t");
        expect(negotiateEncoding(noisy, ALL_CODINGS)).toBe(negotiateEncoding(plain, ALL_CODINGS));
      }),
    );
  });
});
