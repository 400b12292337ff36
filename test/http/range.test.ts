import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RANGE_MAX_SPECS } from "../../src/constants";
import {
  contentRange,
  evaluateRange,
  ifRangeHolds,
  parseRange,
  selectRange,
  sliceBody,
  type RangeAnswer,
  type RangeInput,
} from "../../src/http/range";

const LM = "Tue, 01 Jul 2025 10:00:00 GMT";
const DATE = "Tue, 01 Jul 2025 10:00:05 GMT";
const base: RangeInput = {
  method: "GET",
  status: 200,
  range: "bytes=0-9",
  ifRange: null,
  etag: '"v1"',
  lastModified: LM,
  date: DATE,
  length: 100,
};
const part = (start: number, end: number): RangeAnswer => ({ kind: "partial", range: { start, end } });
const FULL: RangeAnswer = { kind: "full" };
const NONE: RangeAnswer = { kind: "unsatisfiable" };

describe("parseRange (RFC 9110 §14.1.1)", () => {
  it.each([
    ["bytes=0-499", [{ first: 0, last: 499 }]],
    ["bytes=500-", [{ first: 500, last: null }]],
    ["bytes=-500", [{ suffix: 500 }]],
    ["BYTES = 1-2", [{ first: 1, last: 2 }]],
    ["bytes=0-0, -1", [{ first: 0, last: 0 }, { suffix: 1 }]],
    [
      "bytes=1-2,,3-4, ",
      [
        { first: 1, last: 2 },
        { first: 3, last: 4 },
      ],
    ],
    ["bytes=5-5", [{ first: 5, last: 5 }]],
  ])("%s", (value, specs) => {
    expect(parseRange(value)).toStrictEqual(specs);
  });

  it.each([
    ["other unit", "items=0-1"],
    ["no unit", "0-1"],
    ["last before first", "bytes=5-4"],
    ["one bad spec spoils the field", "bytes=0-1,x"],
    ["empty set", "bytes="],
    ["only commas", "bytes=,,"],
    ["negative", "bytes=-1-2"],
    ["no digits", "bytes=-"],
    ["spaces inside a spec", "bytes=1 - 2"],
    ["too many specs", `bytes=${Array.from({ length: RANGE_MAX_SPECS + 1 }, (_, i) => `${i}-${i}`).join(",")}`],
  ])("invalid (%s) → null", (_, value) => {
    expect(parseRange(value)).toBeNull();
  });
});

describe("selectRange (RFC 9110 §14.1.2, §14.2)", () => {
  it.each([
    ["bytes=0-9", 100, part(0, 9)],
    ["bytes=90-", 100, part(90, 99)],
    ["bytes=90-1000", 100, part(90, 99)],
    ["bytes=-10", 100, part(90, 99)],
    ["bytes=-1000", 100, part(0, 99)],
    ["bytes=99-99", 100, part(99, 99)],
    ["bytes=100-", 100, NONE],
    ["bytes=100-200", 100, NONE],
    ["bytes=-0", 100, NONE],
    ["bytes=0-", 0, NONE],
    // An empty representation asked for whole: the full (empty) 200.
    ["bytes=-5", 0, FULL],
    // Overlapping or adjacent ranges are coalesced into one part.
    ["bytes=0-9,5-19", 100, part(0, 19)],
    ["bytes=10-19,0-9", 100, part(0, 19)],
    // Disjoint ranges: the full 200 (no multipart/byteranges).
    ["bytes=0-9,20-29", 100, FULL],
    // Unsatisfiable specs drop out; none left is a 416.
    ["bytes=0-9,200-300", 100, part(0, 9)],
    ["bytes=100-,200-300", 100, NONE],
  ] as [string, number, RangeAnswer][])("%s over %i bytes", (value, length, expected) => {
    expect(selectRange(parseRange(value)!, length)).toStrictEqual(expected);
  });

  it("property: a partial answer lies within the representation and covers every satisfiable spec", () => {
    const spec = fc.oneof(
      fc.record({ first: fc.nat(300), last: fc.option(fc.nat(300), { nil: null }) }).filter((s) => s.last === null || s.last >= s.first),
      fc.record({ suffix: fc.nat(300) }),
    );
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 6 }), fc.nat(300), (specs, length) => {
        const answer = selectRange(specs, length);
        const wanted = specs.flatMap((s) => {
          if ("suffix" in s) return s.suffix > 0 && length > 0 ? [[Math.max(0, length - s.suffix), length - 1]] : [];
          return s.first < length ? [[s.first, Math.min(s.last ?? length - 1, length - 1)]] : [];
        });
        if (answer.kind === "unsatisfiable") expect(wanted).toStrictEqual([]);
        if (answer.kind === "partial") {
          const { start, end } = answer.range;
          expect(0 <= start && start <= end && end < length).toBe(true);
          for (const [a, b] of wanted) expect(start <= a! && b! <= end).toBe(true);
          // Nothing is sent that no spec asked for.
          for (let i = start; i <= end; i++) expect(wanted.some(([a, b]) => a! <= i && i <= b!)).toBe(true);
        }
      }),
    );
  });
});

describe("If-Range (RFC 9110 §13.1.5)", () => {
  const response = { etag: '"v1"', lastModified: LM, date: DATE };
  it.each([
    ["same strong ETag", '"v1"', response, true],
    ["other ETag", '"v2"', response, false],
    ["weak in request", 'W/"v1"', response, false],
    ["weak in response", '"v1"', { ...response, etag: 'W/"v1"' }, false],
    ["no ETag stored", '"v1"', { ...response, etag: null }, false],
    ["Last-Modified, strong (Date ≥ 1 s later)", LM, response, true],
    ["Last-Modified, weak (Date = Last-Modified)", LM, { ...response, date: LM }, false],
    ["Last-Modified, no Date", LM, { ...response, date: null }, false],
    ["other date", "Tue, 01 Jul 2025 09:00:00 GMT", response, false],
    ["no Last-Modified", LM, { ...response, lastModified: null }, false],
    ["garbage", "yesterday", response, false],
  ])("%s", (_, value, stored, holds) => {
    expect(ifRangeHolds(value, stored)).toBe(holds);
  });
});

describe("evaluateRange", () => {
  it.each([
    ["plain", {}, part(0, 9)],
    ["no Range", { range: null }, FULL],
    ["HEAD ignores Range", { method: "HEAD" }, FULL],
    ["only a 200 is sliced", { status: 404 }, FULL],
    ["invalid Range is ignored", { range: "bytes=9-0" }, FULL],
    ["If-Range holds", { ifRange: '"v1"' }, part(0, 9)],
    ["If-Range fails → full", { ifRange: '"v0"' }, FULL],
    ["If-Range fails, even when unsatisfiable", { ifRange: '"v0"', range: "bytes=500-" }, FULL],
    ["unsatisfiable", { range: "bytes=500-" }, NONE],
  ] as [string, Partial<RangeInput>, RangeAnswer][])("%s", (_, change, expected) => {
    expect(evaluateRange({ ...base, ...change })).toStrictEqual(expected);
  });

  it("Content-Range", () => {
    expect(contentRange({ start: 0, end: 9 }, 100)).toBe("bytes 0-9/100");
  });
});

describe("sliceBody", () => {
  const stream = (chunks: string[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
        controller.close();
      },
    });
  const text = (body: ReadableStream<Uint8Array>) => new Response(body).text();

  it("property: the slice of any chunking equals the string slice", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: fc.constantFrom("a", "b", "c"), maxLength: 8 }), { maxLength: 8 }),
        fc.nat(40),
        fc.nat(40),
        async (chunks, a, b) => {
          const whole = chunks.join("");
          const [start, end] = [Math.min(a, b), Math.max(a, b)];
          if (end >= whole.length) return;
          expect(await text(sliceBody(stream(chunks), start, end))).toBe(whole.slice(start, end + 1));
        },
      ),
    );
  });

  it("a body shorter than the range errors instead of ending short", async () => {
    await expect(text(sliceBody(stream(["abc"]), 1, 5))).rejects.toThrow(/before the range/);
  });
});
