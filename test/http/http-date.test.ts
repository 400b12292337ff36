import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatHttpDate, parseHttpDate } from "../../src/http/http-date";

const EXAMPLE_MS = 784111777000; // Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110 §5.6.7)
const NOW_2025 = Date.UTC(2025, 5, 1);
const LONG_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

describe("parseHttpDate", () => {
  it.each([
    ["Sun, 06 Nov 1994 08:49:37 GMT"], // IMF-fixdate
    ["Sunday, 06-Nov-94 08:49:37 GMT"], // obsolete RFC 850
    ["Sun Nov  6 08:49:37 1994"], // ANSI C asctime()
  ])("RFC 9110 example %j", (s) => {
    expect(parseHttpDate(s, NOW_2025)).toBe(EXAMPLE_MS);
    expect(parseHttpDate(s)).toBe(EXAMPLE_MS);
  });

  it.each([
    ["Sun Nov 06 08:49:37 1994", EXAMPLE_MS], // asctime with 2DIGIT day
    ["sun, 06 nov 1994 08:49:37 gmt", EXAMPLE_MS], // case-insensitive names
    ["  Sun, 06 Nov 1994 08:49:37 GMT\t", EXAMPLE_MS], // surrounding whitespace
    ["Mon, 06 Nov 1994 08:49:37 GMT", EXAMPLE_MS], // wrong weekday: date fields win
    ["Thu, 01 Jan 1970 00:00:00 GMT", 0],
    ["Wed, 31 Dec 1969 23:59:59 GMT", -1000],
    ["Tue, 29 Feb 2000 12:00:00 GMT", Date.UTC(2000, 1, 29, 12)],
    ["Fri, 31 Dec 9999 23:59:59 GMT", Date.UTC(9999, 11, 31, 23, 59, 59)],
    ["Sat, 01 Jan 0000 00:00:00 GMT", -62167219200000],
    ["Sat, 01 Jan 0050 00:00:00 GMT", -60589296000000], // not Date.UTC's 1950
    ["Wed, 31 Dec 2008 23:59:60 GMT", Date.UTC(2009, 0, 1)], // leap second rolls over
  ])("accepts %j", (s, ms) => {
    expect(parseHttpDate(s)).toBe(ms);
  });

  it.each([
    [null],
    [undefined],
    [""],
    ["0"],
    ["-1"],
    ["1"],
    ["784111777"],
    ["Nov 1994"],
    ["garbage"],
    ["Sun, 06 Nov 1994"],
    ["Sun, 06 Nov 1994 08:49:37"],
    ["Sun, 06 Nov 1994 08:49:37 UTC"],
    ["Sun, 06 Nov 1994 08:49:37 +0000"],
    ["Sun, 6 Nov 1994 08:49:37 GMT"],
    ["Sun, 06 Nov 94 08:49:37 GMT"],
    ["Sun, 06 November 1994 08:49:37 GMT"],
    ["Sun,  06 Nov 1994 08:49:37 GMT"],
    ["Sun 06 Nov 1994 08:49:37 GMT"],
    ["Xyz, 06 Nov 1994 08:49:37 GMT"],
    ["Sun, 06 Foo 1994 08:49:37 GMT"],
    ["Sun, 31 Nov 1994 08:49:37 GMT"],
    ["Sun, 29 Feb 1900 08:49:37 GMT"],
    ["Sun, 00 Nov 1994 08:49:37 GMT"],
    ["Sun, 06 Nov 1994 24:00:00 GMT"],
    ["Sun, 06 Nov 1994 08:60:00 GMT"],
    ["Sun, 06 Nov 1994 08:49:61 GMT"],
    ["Sun, 06 Nov 1994 8:49:37 GMT"],
    ["Sun, 06 Nov 1994 08:49:37 GMT extra"],
    ["Sun, 06 Nov 1994 08:49:37.000 GMT"],
    ["Sun, 06 Nov \u0661994 08:49:37 GMT"], // non-ASCII digit
    ["Sun, 06-Nov-94 08:49:37 GMT"], // RFC 850 needs the long day name
    ["Sunday, 06-Nov-1994 08:49:37 GMT"],
    ["Sunday, 06 Nov 94 08:49:37 GMT"],
    ["Sun Nov 6 08:49:37 1994"], // asctime single-digit day needs a leading space
    ["Sun Nov  6 08:49:37 1994 GMT"],
    ["Sun Nov  6 08:49:37 94"],
    ["1994-11-06T08:49:37Z"], // ISO 8601 is not an HTTP-date
  ])("rejects %j", (s) => {
    expect(parseHttpDate(s)).toBeNull();
  });

  describe("RFC 850 two-digit year (RFC 9110 §5.6.7: >50 years ahead means the past)", () => {
    it.each([
      ["Sunday, 06-Nov-94 08:49:37 GMT", NOW_2025, 1994],
      ["Thursday, 06-Nov-25 08:49:37 GMT", NOW_2025, 2025],
      ["Wednesday, 06-Nov-75 08:49:37 GMT", NOW_2025, 2075], // exactly 50 ahead: future
      ["Friday, 06-Nov-76 08:49:37 GMT", NOW_2025, 1976], // 51 ahead: past
      ["Saturday, 06-Nov-00 08:49:37 GMT", NOW_2025, 2000],
      ["Saturday, 06-Nov-99 08:49:37 GMT", Date.UTC(2070, 0, 1), 2099],
      ["Saturday, 06-Nov-21 08:49:37 GMT", Date.UTC(2070, 0, 1), 2021], // 49 back
      ["Saturday, 06-Nov-20 08:49:37 GMT", Date.UTC(2070, 0, 1), 2120], // 50 ahead, not 50 back
      ["Saturday, 06-Nov-10 08:49:37 GMT", Date.UTC(2070, 0, 1), 2110],
    ])("%j at now=%d → %d", (s, now, year) => {
      const ms = parseHttpDate(s, now);
      expect(ms).not.toBeNull();
      expect(new Date(ms as number).getUTCFullYear()).toBe(year);
    });
  });
});

describe("formatHttpDate", () => {
  it.each([
    [EXAMPLE_MS, "Sun, 06 Nov 1994 08:49:37 GMT"],
    [EXAMPLE_MS + 999, "Sun, 06 Nov 1994 08:49:37 GMT"],
    [0, "Thu, 01 Jan 1970 00:00:00 GMT"],
    [-1, "Wed, 31 Dec 1969 23:59:59 GMT"],
    [-62167219200000, "Sat, 01 Jan 0000 00:00:00 GMT"],
  ])("%d → %j", (ms, s) => {
    expect(formatHttpDate(ms)).toBe(s);
  });

  it.each([[NaN], [Infinity], [-62167219200001], [253402300800000]])("throws on %d", (ms) => {
    expect(() => formatHttpDate(ms)).toThrow(RangeError);
  });
});

// Property runs (hundreds of generated dates each) are CPU-bound: an explicit budget for a busy machine.
describe("properties", { timeout: 30_000 }, () => {
  const MIN_MS = -62167219200000; // 0000-01-01T00:00:00Z
  const MAX_MS = 253402300799999; // 9999-12-31T23:59:59.999Z
  const ms = fc.integer({ min: MIN_MS, max: MAX_MS });

  it("parse(format(ms)) is ms floored to the second", () => {
    fc.assert(
      fc.property(ms, (t) => {
        expect(parseHttpDate(formatHttpDate(t))).toBe(Math.floor(t / 1000) * 1000);
      }),
      { numRuns: 2000 },
    );
  });

  it("format agrees with Date#toUTCString for four-digit years", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1000, 0, 1), max: MAX_MS }), (t) => {
        expect(formatHttpDate(t)).toBe(new Date(t).toUTCString());
      }),
      { numRuns: 1000 },
    );
  });

  it("parse never throws and returns null or an integer", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const r = parseHttpDate(s);
        expect(r === null || Number.isInteger(r)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("asctime and RFC 850 renderings parse to the same instant as IMF-fixdate", () => {
    const fixed = Date.UTC(2025, 0, 1);
    // RFC 850 is only unambiguous within 50 years of now: draw from that window.
    const window = fc.integer({ min: Date.UTC(1976, 0, 1), max: Date.UTC(2075, 11, 31) });
    fc.assert(
      fc.property(window, (t) => {
        const imf = formatHttpDate(t);
        const [, dd, mon, yyyy, time] = /^\w{3}, (\d{2}) (\w{3}) (\d{4}) (\S+) GMT$/.exec(imf) ?? [];
        const longDay = LONG_DAYS[new Date(t).getUTCDay()];
        const rfc850 = `${longDay}, ${dd}-${mon}-${yyyy?.slice(2)} ${time} GMT`;
        const asctime = `${imf.slice(0, 3)} ${mon} ${dd?.replace(/^0/, " ")} ${time} ${yyyy}`;
        const want = parseHttpDate(imf);
        expect(parseHttpDate(rfc850, fixed)).toBe(want);
        expect(parseHttpDate(asctime)).toBe(want);
      }),
      { numRuns: 1000 },
    );
  });
});
