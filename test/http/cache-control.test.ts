import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CACHE_CONTROL_MAX_CHARS,
  DELTA_SECONDS_MAX,
  deltaSeconds,
  fieldNames,
  parseCacheControl,
  parseTargetedCacheControl,
  type Directives,
} from "../../src/http/cache-control";

type Entry = [string, string | true];
const entries = (d: Directives | null): Entry[] | null => (d === null ? null : [...d]);

describe("parseCacheControl", () => {
  const cases: [string | null | undefined, Entry[]][] = [
    [null, []],
    [undefined, []],
    ["", []],
    ["   ", []],
    [",,,", []],
    ["public", [["public", true]]],
    ["max-age=60", [["max-age", "60"]]],
    [
      "public, max-age=60",
      [
        ["public", true],
        ["max-age", "60"],
      ],
    ],
    [
      "PUBLIC, Max-Age=60",
      [
        ["public", true],
        ["max-age", "60"],
      ],
    ],
    [
      "no-store,no-cache",
      [
        ["no-store", true],
        ["no-cache", true],
      ],
    ],
    [
      "a,,b",
      [
        ["a", true],
        ["b", true],
      ],
    ],
    [
      " ,\t a ,\t, b\t, ",
      [
        ["a", true],
        ["b", true],
      ],
    ],
    ["max-age = 60", [["max-age", "60"]]],
    [
      "max-age=\t60 ,public",
      [
        ["max-age", "60"],
        ["public", true],
      ],
    ],
    ['private="set-cookie, x-foo"', [["private", "set-cookie, x-foo"]]],
    [
      'no-cache="set-cookie", max-age=5',
      [
        ["no-cache", "set-cookie"],
        ["max-age", "5"],
      ],
    ],
    [
      'x="a\\"b", y="c\\\\d"',
      [
        ["x", 'a"b'],
        ["y", "c\\d"],
      ],
    ],
    ['x="\\a\\b"', [["x", "ab"]]],
    ['x=""', [["x", ""]]],
    ['max-age="60"', [["max-age", "60"]]],
    ["max-age=60, max-age=0", [["max-age", "60"]]],
    ["MAX-AGE=10, max-age=20, Max-Age", [["max-age", "10"]]],
    ["max-age, max-age=5", [["max-age", true]]],
    ["max-age==5, public", [["public", true]]],
    ["max-age=-1", [["max-age", "-1"]]],
    ["max-age=1.5", [["max-age", "1.5"]]],
    ["max-age=99999999999999999999999", [["max-age", "99999999999999999999999"]]],
    ["max-age=", []],
    ["max-age=, public", [["public", true]]],
    ["=5, public", [["public", true]]],
    ["max-age=5 6, public", [["public", true]]],
    ["max age=5, s-maxage=7", [["s-maxage", "7"]]],
    ["a=b=c, d", [["d", true]]],
    ['"quoted", public', [["public", true]]],
    ['x="unterminated, max-age=5', []],
    ['x, y="a\\', [["x", true]]], // unterminated quote ending in a lone backslash
    ['9\u00e9Z\u00e9"\\=\\', []], // once stalled the garbage-skipping loop
    ['junk x="a, max-age=9", public', [["public", true]]],
    [
      'private="a, b", max-age=3',
      [
        ["private", "a, b"],
        ["max-age", "3"],
      ],
    ],
    ["caf\u00e9, public", [["public", true]]],
    ["a\u0000b, c", [["c", true]]],
    ['x="caf\u00e9"', [["x", "caf\u00e9"]]],
    ["x=Token-Value", [["x", "Token-Value"]]],
    ["stale-while-revalidate=30;foo, public", [["public", true]]],
    ["immutable\r\n, public", [["public", true]]],
  ];
  it.each(cases)("%j", (header, expected) => {
    expect(entries(parseCacheControl(header))).toEqual(expected);
  });

  it("reads only the first CACHE_CONTROL_MAX_CHARS characters and drops a cut member", () => {
    // The cut falls inside "max-age=31536000": a truncated 315 must not be read.
    const lead = " ".repeat(CACHE_CONTROL_MAX_CHARS - "public, max-age=315".length);
    expect(entries(parseCacheControl(`${lead}public, max-age=31536000`))).toEqual([["public", true]]);
    // A member that ends exactly at the cut with a comma after it is kept.
    const exact = `${" ".repeat(CACHE_CONTROL_MAX_CHARS - 10)}max-age=5,` + "y".repeat(100_000);
    expect(entries(parseCacheControl(exact))).toEqual([["max-age", "5"]]);
    // Fits exactly: not truncated, so the last member counts.
    const fits = `${" ".repeat(CACHE_CONTROL_MAX_CHARS - 9)}max-age=5`;
    expect(entries(parseCacheControl(fits))).toEqual([["max-age", "5"]]);
  });

  // A parser that backtracks or loops on this input would exceed the test's own timeout.
  it("parses a huge hostile header without hanging, and finds nothing in it", () => {
    const hostile = '"'.repeat(1_000_000) + "\\".repeat(1_000_000) + "=,".repeat(500_000);
    for (let i = 0; i < 20; i++) expect(parseCacheControl(hostile).size).toBe(0);
  });
});

describe("deltaSeconds", () => {
  const cases: [string, string, number | null][] = [
    ["max-age=60", "max-age", 60],
    ["max-age=0", "max-age", 0],
    ["max-age=007", "max-age", 7],
    ['max-age="60"', "max-age", 60],
    ["Max-Age=60", "MAX-AGE", 60],
    ["s-maxage=2147483647", "s-maxage", 2147483647],
    ["s-maxage=2147483648", "s-maxage", DELTA_SECONDS_MAX],
    ["s-maxage=2147483649", "s-maxage", DELTA_SECONDS_MAX],
    ["max-age=99999999999999999999999", "max-age", DELTA_SECONDS_MAX],
    [`max-age=${"9".repeat(400)}`, "max-age", DELTA_SECONDS_MAX],
    [`max-age=${"0".repeat(50)}12`, "max-age", 12],
    ["max-age=-1", "max-age", null],
    ["max-age=1.5", "max-age", null],
    ["max-age=1e3", "max-age", null],
    ["max-age=0x10", "max-age", null],
    ['max-age=""', "max-age", null],
    ['max-age=" 60"', "max-age", null],
    ["max-age", "max-age", null],
    ["public", "max-age", null],
    ["max-age=\u0661", "max-age", null], // Arabic-Indic digit one: not DIGIT
  ];
  it.each(cases)("%j %s → %j", (header, name, expected) => {
    expect(deltaSeconds(parseCacheControl(header), name)).toBe(expected);
  });
});

describe("fieldNames", () => {
  const cases: [string, string, string[] | null][] = [
    ["public", "private", null],
    ["private", "private", []],
    ['private="Set-Cookie"', "private", ["set-cookie"]],
    ['private="a, B,, c "', "private", ["a", "b", "c"]],
    ["no-cache=set-cookie", "no-cache", ["set-cookie"]],
    ['no-cache=""', "no-cache", []],
    ['NO-CACHE="X-Foo", no-cache', "no-cache", ["x-foo"]],
  ];
  it.each(cases)("%j %s → %j", (header, name, expected) => {
    expect(fieldNames(parseCacheControl(header), name)).toEqual(expected);
  });
});

describe("parseTargetedCacheControl (CDN-Cache-Control)", () => {
  const cases: [string | null | undefined, Entry[] | null][] = [
    [null, null],
    [undefined, null],
    ["", null],
    ["max-age=60", [["max-age", "60"]]],
    [
      "max-age=60, stale-while-revalidate=30",
      [
        ["max-age", "60"],
        ["stale-while-revalidate", "30"],
      ],
    ],
    ["no-store", [["no-store", true]]],
    ["no-store=?1, public=?0", [["no-store", true]]],
    // RFC 9213 §2.1: a member of the wrong type is ignored (max-age takes an Integer).
    ['max-age="60"', []],
    ['max-age="60", no-store', [["no-store", true]]],
    ["s-maxage=abc, stale-while-revalidate=?1, stale-if-error=30", [["stale-if-error", "30"]]],
    ['private="set-cookie, x-foo"', [["private", "set-cookie, x-foo"]]],
    ["x=tok/en", [["x", "tok/en"]]],
    ["max-age=-1", [["max-age", "-1"]]],
    ["max-age=1.5", []],
    [
      "max-age=60;foo=1, public",
      [
        ["max-age", "60"],
        ["public", true],
      ],
    ],
    ["max-age=60, max-age=30", [["max-age", "30"]]],
    ["a=(1 2), b=:aGk=:, c", [["c", true]]],
    ["max-age=60,,", null],
    ["max-age=60,", null],
    ["Max-Age=60", null],
    ["max-age=60 public", null],
    ["max-age==60", null],
    ["max-age=1234567890123456", null],
    ['x="caf\u00e9"', null],
    [`max-age=60, x="${"a".repeat(CACHE_CONTROL_MAX_CHARS)}"`, null],
  ];
  it.each(cases)("%j", (header, expected) => {
    expect(entries(parseTargetedCacheControl(header))).toEqual(expected);
  });

  it("feeds deltaSeconds like Cache-Control does", () => {
    const d = parseTargetedCacheControl("max-age=60, s-maxage=-5");
    expect(d).not.toBeNull();
    expect(deltaSeconds(d as Directives, "max-age")).toBe(60);
    expect(deltaSeconds(d as Directives, "s-maxage")).toBeNull();
  });
});

// --- property-based ---------------------------------------------------------------------

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });
/** Printable ASCII plus obs-text: what a quoted-string can carry once escaped. */
const qtext = fc.string({
  unit: fc
    .integer({ min: 0x20, max: 0xff })
    .filter((c) => c !== 0x7f)
    .map((c) => String.fromCharCode(c)),
  maxLength: 20,
});
const directiveValue = fc.oneof(
  fc.constant(true as const),
  token.map((t) => ({ text: t, quote: false })),
  fc.oneof(token, qtext).map((t) => ({ text: t, quote: true })),
);
const separator = fc.constantFrom(",", ", ", " ,", ",\t", " , , ", ",,");
/** Strings biased towards the grammar's special characters, to reach deep parser paths. */
const grammarish = fc.string({ unit: fc.constantFrom(...'aZ09-=",\\ \t;()\u00e9\u0000'.split("")) });

// Property runs (hundreds of generated headers each) are CPU-bound: an explicit budget for a busy machine.
describe("properties", { timeout: 30_000 }, () => {
  it("parseCacheControl never throws and yields lower-case token names", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary" }), grammarish), (s) => {
        for (const [name, v] of parseCacheControl(s)) {
          expect(name).toMatch(/^[!#$%&'*+\-.^_`|~0-9a-z]+$/);
          expect(v === true || typeof v === "string").toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("parseTargetedCacheControl never throws", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary" }), grammarish), (s) => {
        parseTargetedCacheControl(s);
      }),
      { numRuns: 2000 },
    );
  });

  it("a rendered directive list round-trips (lower-cased names, first wins)", () => {
    const member = fc.tuple(token, directiveValue);
    fc.assert(
      fc.property(fc.array(member, { maxLength: 8 }), fc.array(separator, { minLength: 8, maxLength: 8 }), (ms, seps) => {
        const header = ms
          .map(([name, v], i) => {
            const rendered = v === true ? name : v.quote ? `${name}="${v.text.replace(/(["\\])/g, "\\$1")}"` : `${name}=${v.text}`;
            return (i === 0 ? "" : seps[i - 1]) + rendered;
          })
          .join("");
        const expected = new Map<string, string | true>();
        for (const [name, v] of ms) {
          const key = name.toLowerCase();
          if (!expected.has(key)) expected.set(key, v === true ? true : v.text);
        }
        expect([...parseCacheControl(header)]).toEqual([...expected]);
      }),
      { numRuns: 1000 },
    );
  });

  it("deltaSeconds is null or an integer in [0, 2^31]", () => {
    const arg = fc.oneof(
      fc.string({ unit: "binary" }),
      fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
      fc.double().map(String),
    );
    fc.assert(
      fc.property(arg, fc.boolean(), (v, quote) => {
        const header = quote ? `max-age="${v.replace(/(["\\])/g, "\\$1")}"` : `max-age=${v}`;
        for (const d of [parseCacheControl(header), parseTargetedCacheControl(header)]) {
          if (d === null) continue;
          const n = deltaSeconds(d, "max-age");
          if (n !== null) {
            expect(Number.isInteger(n)).toBe(true);
            expect(n).toBeGreaterThanOrEqual(0);
            expect(n).toBeLessThanOrEqual(DELTA_SECONDS_MAX);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
