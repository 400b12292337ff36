/** Cache-key derivation (src/cache/key.ts): pure, so table-driven and property-based. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CACHE_KEY_ORIGIN } from "../../src/constants";
import { cacheKey, cacheKeyMaterial } from "../../src/cache/key";
import { normalizeHeaderValue, normalizeQuery } from "../../src/http/key-material";
import type { CacheKeyPolicy, QueryKeyPolicy } from "../../src/tenant/types";

const ALL: QueryKeyPolicy = { mode: "all" };
const NONE: QueryKeyPolicy = { mode: "none" };
const allow = (...names: string[]): QueryKeyPolicy => ({ mode: "allow", names });
const policy = (query: QueryKeyPolicy = ALL, headers: string[] = []): CacheKeyPolicy => ({ query, headers });

/** The Cache API key Brim uses: tenant id, then 64 hex digits of SHA-256, nothing else. */
const KEY_URL = new RegExp(`^${CACHE_KEY_ORIGIN.replace(/\./g, "\\.")}/[a-z0-9_-]+/[0-9a-f]{64}$`);

// Arbitraries for the property tests.

const tenantId = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,62}$/);

/** Header values as the Headers class accepts them: no CR, LF or NUL, trimmed of tabs/spaces. */
const headerValue = fc
  .string({ unit: "grapheme-ascii", maxLength: 40 })
  .map((v) => v.replace(/[\r\n\0]/g, "").replace(/^[\t ]+|[\t ]+$/g, ""));

const queryPolicy: fc.Arbitrary<QueryKeyPolicy> = fc.oneof(
  fc.constant(ALL),
  fc.constant(NONE),
  fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }).map((names) => allow(...names)),
);

/** Query-ish text that exercises escapes, + and separators, plus arbitrary Unicode. */
const rawQuery = fc.oneof(
  fc.string({ unit: "binary", maxLength: 60 }),
  fc
    .array(fc.constantFrom("a", "b", "A", "=", "&", "?", "+", "%", "%2f", "%2F", "%20", "%61", "%e0", "é", "1"), { maxLength: 20 })
    .map((parts) => parts.join("")),
);

/** Distinct, plainly spelled parameter names, each with 1-3 values in a fixed order. */
const groups = fc.uniqueArray(
  fc.record({
    name: fc.stringMatching(/^[a-z0-9_]{1,6}$/),
    values: fc.array(fc.stringMatching(/^[a-zA-Z0-9%+=._~-]{0,6}$/), { minLength: 1, maxLength: 3 }),
  }),
  { selector: (g) => g.name, maxLength: 6 },
);

/** `groups` serialised in two orders that keep each name's values in their relative order. */
const twoInterleavings = groups.chain((gs) => {
  const tokens = gs.flatMap((g) => g.values.map(() => g.name));
  const shuffle = fc.shuffledSubarray(tokens, { minLength: tokens.length, maxLength: tokens.length });
  return fc.tuple(shuffle, shuffle).map(([a, b]) => ({ gs, a: serialise(gs, a), b: serialise(gs, b) }));
});

function serialise(gs: { name: string; values: string[] }[], order: string[]): string {
  const next = new Map(gs.map((g) => [g.name, [...g.values]]));
  return `?${order.map((name) => `${name}=${next.get(name)!.shift()}`).join("&")}`;
}

describe("normalizeQuery: table", () => {
  it.each([
    ["empty", "", ALL, ""],
    ["a lone ?", "?", ALL, ""],
    ["one pair", "?a=1", ALL, "?a=1"],
    ["no leading ?", "a=1", ALL, "?a=1"],
    ["sorted by name", "?b=2&a=1&c=3", ALL, "?a=1&b=2&c=3"],
    ["repeated names keep their relative order", "?a=2&b=1&a=1&a=3", ALL, "?a=2&a=1&a=3&b=1"],
    ["empty pairs dropped", "?&a=1&&b=2&", ALL, "?a=1&b=2"],
    ["a name without =", "?flag&a=1", ALL, "?a=1&flag"],
    ["an empty value is kept distinct from no =", "?a=&a", ALL, "?a=&a"],
    ["percent-escapes upper-cased (RFC 3986 §6.2.2.1)", "?x=%2f%3a%c3%a9", ALL, "?x=%2F%3A%C3%A9"],
    ["percent-escapes in names upper-cased", "?%c3%a9=1", ALL, "?%C3%A9=1"],
    ["sorted by decoded name", "?b=1&%61=2", ALL, "?%61=2&b=1"],
    ["+ kept as sent", "?q=a+b", ALL, "?q=a+b"],
    ["%20 kept as sent", "?q=a%20b", ALL, "?q=a%20b"],
    ["a malformed escape is kept raw", "?%zz=1&%e0%a4%a=2", ALL, "?%E0%A4%a=2&%zz=1"],
    ["names are case-sensitive", "?B=1&a=2&A=3", ALL, "?A=3&B=1&a=2"],
    ['"none" drops the query', "?a=1&b=2", NONE, ""],
    ['"none" on an empty query', "", NONE, ""],
    ["allow keeps only listed names", "?utm=x&page=2&ref=y", allow("page"), "?page=2"],
    ["allow keeps repeated listed names in order", "?page=3&x=1&page=2", allow("page"), "?page=3&page=2"],
    ["allow is case-sensitive", "?Page=1&page=2", allow("page"), "?page=2"],
    ["allow with nothing listed present", "?utm=x", allow("page"), ""],
    ["allow sorts what it keeps", "?sort=asc&page=2", allow("page", "sort"), "?page=2&sort=asc"],
    ["allow compares decoded names (an escaped spelling is kept, and so keyed)", "?pag%65=2", allow("page"), "?pag%65=2"],
  ])("%s: %j", (_, search, query, expected) => {
    expect(normalizeQuery(search, query)).toBe(expected);
  });

  it("does not merge + and %20: an origin may tell them apart", () => {
    expect(normalizeQuery("?q=a+b", ALL)).not.toBe(normalizeQuery("?q=a%20b", ALL));
    expect(normalizeQuery("?a+b=1", ALL)).not.toBe(normalizeQuery("?a%20b=1", ALL));
  });

  it("treats escape case as insignificant: %2f and %2F are one key", () => {
    expect(normalizeQuery("?p=a%2fb", ALL)).toBe(normalizeQuery("?p=a%2Fb", ALL));
  });
});

describe("normalizeHeaderValue: table", () => {
  it.each([
    ["absent stays absent (RFC 9111 §4.1)", null, null],
    ["empty", "", ""],
    ["trimmed", "  gzip  ", "gzip"],
    ["spaces around commas removed (RFC 9110 §5.6.1)", "gzip ,  br,\tdeflate", "gzip,br,deflate"],
    ["inner whitespace runs collapsed", "en-US;q=0.8   de", "en-US;q=0.8 de"],
    ["case is significant and kept", "Gzip, BR", "Gzip,BR"],
  ])("%s", (_, value, expected) => {
    expect(normalizeHeaderValue(value)).toBe(expected);
  });

  it("gives `a,b` and `a, b` one key", () => {
    expect(normalizeHeaderValue("a,b")).toBe(normalizeHeaderValue("a, b"));
  });
});

describe("cacheKeyMaterial: table", () => {
  const url = (path: string) => new URL(`https://acme.example${path}`);

  it("is the tenant id, then the path and normalised query, then one line per key header (a bare name when absent)", () => {
    const headers = new Headers({ "accept-language": " de ,en ", "x-other": "ignored" });
    const { material, search } = cacheKeyMaterial("acme", url("/p?b=2&a=1"), policy(ALL, ["accept-language", "x-device"]), headers);
    expect(material).toBe("acme\n/p?a=1&b=2\naccept-language:de,en\nx-device");
    expect(search).toBe("?a=1&b=2");
  });

  it.each([
    ["absent vs empty", null, ""],
    ["absent vs blank", null, "  "],
  ])("keeps %s apart (RFC 9111 §4.1)", (_, a, b) => {
    const material = (value: string | null) =>
      cacheKeyMaterial("acme", url("/p"), policy(ALL, ["x-device"]), new Headers(value === null ? {} : { "x-device": value })).material;
    expect(material(a)).not.toBe(material(b));
  });

  it("upper-cases the path's percent-escapes, so %2f and %2F share a key", () => {
    const lower = cacheKeyMaterial("acme", url("/a%2fb"), policy(), new Headers());
    const upper = cacheKeyMaterial("acme", url("/a%2Fb"), policy(), new Headers());
    expect(lower.material).toBe(upper.material);
    expect(lower.material).toBe("acme\n/a%2Fb");
  });

  it("leaves the host out: every host of a tenant shares the key", () => {
    const a = cacheKeyMaterial("acme", new URL("https://a.example/x?q=1"), policy(), new Headers());
    const b = cacheKeyMaterial("acme", new URL("http://b.example:8080/x?q=1"), policy(), new Headers());
    expect(a).toStrictEqual(b);
  });

  it("forwards exactly the query it keys", () => {
    const { material, search } = cacheKeyMaterial("acme", url("/p?utm=x&page=2"), policy(allow("page")), new Headers());
    expect(search).toBe("?page=2");
    expect(material).toBe("acme\n/p?page=2");
  });

  it("with query none, keys and forwards no query at all", () => {
    expect(cacheKeyMaterial("acme", url("/p?a=1"), policy(NONE), new Headers())).toStrictEqual({ material: "acme\n/p", search: "" });
  });
});

describe("cacheKey: the Cache API URL", () => {
  it("never carries raw header values, path or query: only the tenant id and a SHA-256", async () => {
    const secret = "sk_live_4f9a8c7e6d5b4a39";
    const headers = new Headers({ "x-api-key": secret, "x-tenant-plan": "gold" });
    const key = await cacheKey(
      "acme",
      new URL("https://acme.example/private/report?token=abc"),
      policy(ALL, ["x-api-key", "x-tenant-plan"]),
      headers,
    );
    expect(key.url).toMatch(KEY_URL);
    expect(key.url).toBe(`${CACHE_KEY_ORIGIN}/acme/${key.url.slice(-64)}`);
    for (const raw of [secret, "gold", "private", "report", "token", "abc"]) expect(key.url).not.toContain(raw);
    // The value is still part of the key: another value gets another URL.
    const other = await cacheKey(
      "acme",
      new URL("https://acme.example/private/report?token=abc"),
      policy(ALL, ["x-api-key", "x-tenant-plan"]),
      new Headers({ "x-api-key": "sk_live_other", "x-tenant-plan": "gold" }),
    );
    expect(other.url).not.toBe(key.url);
  });

  it("is deterministic and depends only on the material", async () => {
    const a = await cacheKey("acme", new URL("https://a.example/x?b=1&a=2"), policy(), new Headers());
    const b = await cacheKey("acme", new URL("https://b.example/x?a=2&b=1"), policy(), new Headers());
    expect(a).toStrictEqual(b);
  });

  it("property: for any tenant, path, query and header value, the URL is the tenant id and a hash", async () => {
    await fc.assert(
      fc.asyncProperty(
        tenantId,
        fc.webPath(),
        fc.string({ unit: "binary", maxLength: 30 }),
        headerValue,
        async (id, path, query, value) => {
          const url = new URL(`https://h.example${path}`);
          url.search = query;
          const key = await cacheKey(id, url, policy(ALL, ["x-key"]), new Headers({ "x-key": value }));
          expect(key.url).toMatch(KEY_URL);
          expect(key.url.split("/")[3]).toBe(id);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("properties", () => {
  it("normalizeQuery never throws and always returns '' or a '?'-prefixed string", () => {
    fc.assert(
      fc.property(rawQuery, queryPolicy, (search, query) => {
        const out = normalizeQuery(search, query);
        expect(out === "" || out.startsWith("?")).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it("normalizeQuery is idempotent: normalizing twice equals normalizing once", () => {
    fc.assert(
      fc.property(rawQuery, queryPolicy, (search, query) => {
        const once = normalizeQuery(search, query);
        expect(normalizeQuery(once, query)).toBe(once);
      }),
      { numRuns: 1000 },
    );
  });

  it("normalizeQuery ignores parameter order, but keeps the order of a repeated name's values", () => {
    fc.assert(
      fc.property(twoInterleavings, ({ gs, a, b }) => {
        const out = normalizeQuery(a, ALL);
        expect(normalizeQuery(b, ALL)).toBe(out);
        const pairs = out === "" ? [] : out.slice(1).split("&");
        for (const g of gs) {
          const values = pairs.filter((p) => p.startsWith(`${g.name}=`)).map((p) => p.slice(g.name.length + 1));
          expect(values).toStrictEqual(g.values.map((v) => v.replace(/%[0-9a-f]{2}/g, (m) => m.toUpperCase())));
        }
      }),
      { numRuns: 500 },
    );
  });

  it("an allow-list keeps exactly the listed names, whatever else is sent", () => {
    fc.assert(
      fc.property(twoInterleavings, fc.array(fc.stringMatching(/^[a-z0-9_]{1,6}$/), { maxLength: 3 }), ({ gs, a }, listed) => {
        const names = [...new Set(listed)];
        if (names.length === 0) return;
        const out = normalizeQuery(a, allow(...names));
        const kept =
          out === ""
            ? []
            : out
                .slice(1)
                .split("&")
                .map((p) => p.split("=")[0]);
        const expected = gs.filter((g) => names.includes(g.name)).flatMap((g) => g.values.map(() => g.name));
        expect(kept.sort()).toStrictEqual(expected.sort());
      }),
      { numRuns: 500 },
    );
  });

  it('"none" always yields no query', () => {
    fc.assert(
      fc.property(rawQuery, (search) => {
        expect(normalizeQuery(search, NONE)).toBe("");
      }),
    );
  });

  it("normalizeHeaderValue never throws and is idempotent", () => {
    fc.assert(
      fc.property(fc.option(fc.string({ unit: "binary", maxLength: 40 }), { nil: null }), (value) => {
        const once = normalizeHeaderValue(value);
        expect(normalizeHeaderValue(once)).toBe(once);
      }),
      { numRuns: 1000 },
    );
  });

  it("cacheKeyMaterial never throws on any URL the parser accepts", () => {
    fc.assert(
      fc.property(
        tenantId,
        fc.string({ unit: "binary", maxLength: 40 }),
        rawQuery,
        queryPolicy,
        headerValue,
        (id, path, query, q, value) => {
          const url = new URL(`https://h.example/${path}`);
          url.search = query;
          const { material, search } = cacheKeyMaterial(id, url, policy(q, ["x-key"]), new Headers({ "x-key": value }));
          expect(material.startsWith(`${id}\n`)).toBe(true);
          expect(search).toBe(normalizeQuery(url.search, q));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("two tenants never produce the same material, for any paths, queries and headers", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(tenantId, { minLength: 2, maxLength: 2 }),
        fc.tuple(fc.webPath(), fc.webPath()),
        fc.tuple(rawQuery, rawQuery),
        queryPolicy,
        fc.tuple(headerValue, headerValue),
        ([a, b], [pathA, pathB], [queryA, queryB], q, [valueA, valueB]) => {
          const urlA = new URL(`https://h.example${pathA}`);
          const urlB = new URL(`https://h.example${pathB}`);
          urlA.search = queryA;
          urlB.search = queryB;
          const one = cacheKeyMaterial(a!, urlA, policy(q, ["x-key"]), new Headers({ "x-key": valueA }));
          const two = cacheKeyMaterial(b!, urlB, policy(q, ["x-key"]), new Headers({ "x-key": valueB }));
          expect(one.material).not.toBe(two.material);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
