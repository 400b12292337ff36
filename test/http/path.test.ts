/** Path canonicalisation (src/http/path.ts): pure, so table-driven and property-based. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalPath,
  lenientPath,
  normalisingOriginReading,
  normalizeEscapes,
  rawPathOf,
  withPath,
  type PathProblem,
} from "../../src/http/path";

describe("canonicalPath: equivalent spellings become one string (RFC 3986 §6.2.2)", () => {
  it.each([
    ["/", "/"],
    ["/a/b", "/a/b"],
    ["/a/b/", "/a/b/"],
    ["/%70rivate/x", "/private/x"],
    ["/%70%72%69%76%61%74%65/x", "/private/x"],
    ["/a%2db%2Ec%5fd%7Ee", "/a-b.c_d~e"],
    ["/caf%c3%a9", "/caf%C3%A9"],
    ["/a%20b", "/a%20b"],
    ["/100%25", "/100%25"],
    ["/a/.b/..c/...", "/a/.b/..c/..."],
    ["/a|b%5Ec[d]", "/a|b%5Ec[d]"],
    ["/a:b@c!$&'()*+,=", "/a:b@c!$&'()*+,="],
    ["/%3a", "/%3A"],
  ])("%s → %s", (raw, path) => {
    expect(canonicalPath(raw)).toStrictEqual({ ok: true, path });
  });
});

describe("canonicalPath: ambiguous spellings are refused with their reason", () => {
  it.each<[string, PathProblem]>([
    ["/pub/..%2fprivate/x", "encoded-slash"],
    ["/pub/..%2Fprivate/x", "encoded-slash"],
    ["/private%2fx", "encoded-slash"],
    ["/pub/..%5cprivate/x", "encoded-backslash"],
    ["/pub/..\\private/x", "backslash"],
    ["/a\\b", "backslash"],
    ["//private/x", "empty-segment"],
    ["/a//b", "empty-segment"],
    ["/a/b//", "empty-segment"],
    ["/private;/x", "path-parameter"],
    ["/private;jsessionid=1/x", "path-parameter"],
    ["/pub/..;/private/x", "path-parameter"],
    ["/private%3b/x", "path-parameter"],
    ["/a/../b", "dot-segment"],
    ["/a/./b", "dot-segment"],
    ["/a/..", "dot-segment"],
    ["/.", "dot-segment"],
    ["/a/%2e%2e/b", "dot-segment"],
    ["/a/.%2E/b", "dot-segment"],
    ["/a/%2E/b", "dot-segment"],
    ["/pub/%252e%252e/private", "double-encoded"],
    ["/pub/..%252fprivate", "double-encoded"],
    ["/a%25%41%42", "double-encoded"],
    ["/a%00b", "encoded-control"],
    ["/a%0d%0aSet-Cookie:x", "encoded-control"],
    ["/a%7f", "encoded-control"],
    ["/a%zz", "bad-escape"],
    ["/a%2", "bad-escape"],
    ["/a%", "bad-escape"],
    ["a/b", "not-absolute"],
    ["", "not-absolute"],
    ["*", "not-absolute"],
  ])("%s: %s", (raw, reason) => {
    expect(canonicalPath(raw)).toStrictEqual({ ok: false, reason });
  });
});

describe("lenientPath and the normalising reading", () => {
  it.each([
    ["/a%2fb", "/a%2Fb", "/a/b"],
    ["//private/x", "//private/x", "/private/x"],
    ["/private;/x", "/private;/x", "/private/x"],
    ["/pub/..%2fprivate/x", "/pub/..%2Fprivate/x", "/private/x"],
    ["/pub/..\\private/x", "/private/x", "/private/x"],
    ["/a/%2e%2e/b", "/b", "/b"],
    ["/a/b/..", "/a/", "/a/"],
    ["/..", "/", "/"],
    ["/%70ub;v=1/%2e/x", "/pub;v=1/x", "/pub/x"],
  ])("%s: forwarded as %s, read by a normalising origin as %s", (raw, lenient, reading) => {
    expect(lenientPath(raw)).toStrictEqual({ ok: true, path: lenient });
    expect(normalisingOriginReading(raw)).toBe(reading);
  });

  it("lenientPath still refuses malformed escapes and relative paths", () => {
    expect(lenientPath("/a%zz")).toStrictEqual({ ok: false, reason: "bad-escape" });
    expect(lenientPath("a")).toStrictEqual({ ok: false, reason: "not-absolute" });
  });
});

describe("rawPathOf / withPath", () => {
  it.each([
    ["http://acme.test/a/..%2fb?q=1#f", "/a/..%2fb"],
    ["http://acme.test//x/y", "//x/y"],
    ["http://acme.test", "/"],
    ["http://acme.test?q=/x", "/"],
    ["https://[::1]:8443/a;b?c", "/a;b"],
  ])("%s → %s", (url, path) => {
    expect(rawPathOf(url)).toBe(path);
  });

  it("replaces only the path, keeping authority, query and fragment", () => {
    expect(withPath("http://acme.test/%70ub/x?q=%2f#f", "/pub/x")).toBe("http://acme.test/pub/x?q=%2f#f");
    expect(withPath("http://acme.test//x?q", "//y")).toBe("http://acme.test//y?q");
  });
});

// Properties. Paths are built from pieces chosen to collide: separators, dots, escapes of
// every kind (unreserved, reserved, ambiguous, malformed), in both cases.

const UNRESERVED_CHARS = "abcXYZ019-._~";
const PIECES = [
  "a",
  "B",
  "~",
  ".",
  "..",
  "/",
  "//",
  ";",
  ";p=1",
  "\\",
  "%2e",
  "%2E",
  "%2f",
  "%2F",
  "%5c",
  "%5C",
  "%3b",
  "%41",
  "%61",
  "%7e",
  "%2d",
  "%25",
  "%2541",
  "%c3%a9",
  "%20",
  "%3A",
  "%zz",
  "%0a",
  "%7F",
  "|",
  "[",
  "@",
  ":",
];
const rawPath = fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((parts) => `/${parts.join("")}`);
/** Escapes that make a path ambiguous wherever they appear. */
const AMBIGUOUS_PIECES = ["%2f", "%2F", "%5c", "%5C", "\\", ";", "%3b", "//", "/./", "/../", "/%2e%2e/", "%2541", "%00"];

const isUpperHexEscapes = (path: string) => !/%[0-9A-Fa-f]{2}/.test(path.replace(/%[0-9A-F]{2}/g, ""));

describe("canonicalPath properties", () => {
  it("an accepted path has one spelling: idempotent, upper-case escapes, no unreserved escape, no ambiguity left", () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const result = canonicalPath(raw);
        if (!result.ok) return;
        const { path } = result;
        expect(canonicalPath(path)).toStrictEqual({ ok: true, path });
        expect(isUpperHexEscapes(path)).toBe(true);
        expect(path).not.toMatch(/%(?:4[1-9A-F]|5[0-9A]|6[1-9A-F]|7[0-9A]|3[0-9]|2D|2E|5F|7E)/);
        expect(path).not.toMatch(/\\|;|%2F|%5C|%3B|\/\/|\/\.\.?(?:\/|$)/);
      }),
      { numRuns: 2000 },
    );
  });

  it("an accepted path is stable under WHATWG URL parsing: a URL built from it sends exactly it", () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const result = canonicalPath(raw);
        if (result.ok) expect(new URL(`http://origin.test/base${result.path}?q`).pathname).toBe(`/base${result.path}`);
      }),
      { numRuns: 2000 },
    );
  });

  it("no normalising origin can read an accepted path with other segments than Brim routed", () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const result = canonicalPath(raw);
        if (result.ok) expect(normalisingOriginReading(result.path).split("/").length).toBe(result.path.split("/").length);
      }),
      { numRuns: 2000 },
    );
  });

  it("any path with an ambiguous piece is refused", () => {
    fc.assert(
      fc.property(rawPath, fc.constantFrom(...AMBIGUOUS_PIECES), rawPath, (before, piece, after) => {
        const result = canonicalPath(`${before}${piece}${after}`);
        expect(result.ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it("percent-encoding any unreserved characters, in either case, gives the same canonical path", () => {
    const segment = fc
      .string({ unit: fc.constantFrom(...UNRESERVED_CHARS), minLength: 1, maxLength: 8 })
      .filter((s) => s !== "." && s !== "..");
    const spelt = fc.array(segment, { minLength: 1, maxLength: 5 }).chain((segments) => {
      const plain = `/${segments.join("/")}`;
      return fc.tuple(fc.constant(plain), fc.array(fc.boolean(), { minLength: plain.length, maxLength: plain.length }), fc.boolean());
    });
    fc.assert(
      fc.property(spelt, ([plain, encode, lower]) => {
        const encoded = [...plain]
          .map((char, i) => {
            if (char === "/" || !encode[i]) return char;
            const hex = char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0");
            return `%${lower ? hex.toLowerCase() : hex}`;
          })
          .join("");
        expect(canonicalPath(encoded)).toStrictEqual({ ok: true, path: plain });
      }),
      { numRuns: 1000 },
    );
  });

  it("lenientPath agrees with canonicalPath on accepted paths and is stable under URL parsing on all", () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const strict = canonicalPath(raw);
        const lenient = lenientPath(raw);
        if (strict.ok) expect(lenient).toStrictEqual(strict);
        if (lenient.ok) expect(new URL(`http://origin.test/base${lenient.path}`).pathname).toBe(`/base${lenient.path}`);
      }),
      { numRuns: 2000 },
    );
  });

  it("normalizeEscapes is what canonicalPath does to escapes", () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const result = canonicalPath(raw);
        if (result.ok) expect(normalizeEscapes(raw)).toBe(result.path);
      }),
    );
  });
});
