/**
 * `Cache-Tag` and `Surrogate-Key` are Brim's (purge by tag): no client sees them, on any path
 * a response can take, while purge by tag keeps working, across 304 refreshes too.
 */
import { describe, expect, it } from "vitest";
import { hidePurgeTags } from "../../src/pipeline/client-headers";
import { TAG_HEADERS } from "../../src/purge/rules";
import { testBrim, type TestBrim } from "../support/brim";
import { originUrl, script, uniquePath, type ResponseSpec } from "../support/origin";
import { expectHit, expectPurgedMiss, purge, uniqueTenant } from "../purge/support";

const TAGS = { "cache-tag": "product-1,catalog", "surrogate-key": "product-1 catalog", "x-keep": "kept" };
const FRESH = { "cache-control": "max-age=60", "content-type": "text/plain" };

function expectNoTags(res: Response, label: string): void {
  for (const name of TAG_HEADERS) expect(res.headers.get(name), `${label}: ${name}`).toBeNull();
  expect(res.headers.get("x-keep"), `${label}: other headers stay`).toBe("kept");
}

/** Each scenario: the origin's script, then the requests whose responses are checked. */
const SCENARIOS: [string, ResponseSpec[], (brim: TestBrim, path: string) => Promise<Response[]>][] = [
  [
    "a miss and a hit",
    [{ headers: { ...FRESH, ...TAGS }, body: "v" }],
    async (brim, path) => [await brim.fetch(path), await brim.fetch(path)],
  ],
  [
    "a HEAD hit",
    [{ headers: { ...FRESH, ...TAGS }, body: "v" }],
    async (brim, path) => [await brim.fetch(path), await brim.fetch(path, { method: "HEAD" })],
  ],
  ["an uncached route", [{ headers: TAGS, body: "v" }], async (brim, path) => [await brim.fetch(`/pass${path}`)]],
  [
    "a cookie bypass",
    [{ headers: { ...FRESH, ...TAGS }, body: "v" }],
    async (brim, path) => [await brim.fetch(path, { headers: { cookie: "a=1" } })],
  ],
  ["a POST", [{ headers: TAGS, body: "v" }], async (brim, path) => [await brim.fetch(path, { method: "POST", body: "x" })]],
  [
    "a not-stored response",
    [{ headers: { "cache-control": "no-store", ...TAGS }, body: "v" }],
    async (brim, path) => [await brim.fetch(path)],
  ],
  [
    "a 304 refresh (tags on the 304 too)",
    [
      { headers: { "cache-control": "no-cache", etag: '"a"', ...TAGS }, body: "v" },
      { status: 304, headers: { "cache-control": "no-cache", etag: '"a"', ...TAGS } },
    ],
    async (brim, path) => [await brim.fetch(path), await brim.fetch(path)],
  ],
  [
    "stale-while-revalidate",
    [{ headers: { "cache-control": "max-age=1, stale-while-revalidate=600", ...TAGS }, body: "v" }],
    async (brim, path) => {
      const first = await brim.fetch(path);
      brim.clock.advance(5);
      return [first, await brim.fetch(path)];
    },
  ],
];

describe("purge tag headers never reach the client", () => {
  it.each(SCENARIOS)("%s", async (label, specs, send) => {
    const brim = testBrim({
      acme: [
        { path: "/pass/*", cache: false },
        { path: "/*", cache: {} },
      ],
    });
    const path = uniquePath();
    await script(path, specs);
    await script(`/pass${path}`, specs);
    const responses = await send(brim, path);
    responses.forEach((res, i) => expectNoTags(res, `${label} #${i + 1}`));
  });
});

describe("purge by tag still works without the headers on the client's responses", () => {
  it("a tagged entry refreshed by a 304 without tags still answers to its tag", async () => {
    const tenant = uniqueTenant("t");
    const host = `${tenant}.test`;
    const brim = testBrim({ [tenant]: [{ path: "/*", cache: {} }] }, { purge: true });
    const path = uniquePath();
    const validated = { "cache-control": "max-age=1", etag: '"a"', date: new Date(brim.clock.now()).toUTCString() };
    await script(path, [
      { headers: { ...validated, "cache-tag": "product-7" }, body: "v{count}" },
      { status: 304, headers: { "cache-control": "max-age=600", etag: '"a"' } },
      { headers: { ...validated, "cache-control": "max-age=600" }, body: "v{count}" },
    ]);
    expect((await brim.fetch(path, { host })).headers.get("cache-tag")).toBeNull();
    brim.clock.advance(2);
    const refreshed = await brim.fetch(path, { host });
    expect(refreshed.headers.get("cache-status")).toMatch(/^Brim; fwd=stale; fwd-status=304/);
    expect(refreshed.headers.get("cache-tag")).toBeNull();
    await expectHit(brim, path, host, "v1");
    expect((await purge(brim, host, { tags: ["product-7"] })).status).toBe(200);
    await expectPurgedMiss(brim, path, host);
  });
});

describe("hidePurgeTags", () => {
  it("removes the tags from a response whose headers are immutable (a fetch result), body intact", async () => {
    const path = uniquePath();
    await script(path, [{ headers: { "cache-tag": "a", "surrogate-key": "b", "x-keep": "k" }, body: "body" }]);
    const fetched = await fetch(`${originUrl()}${path}`);
    expect(() => fetched.headers.set("x", "y")).toThrow(TypeError);
    const out = hidePurgeTags(fetched);
    expect([out.headers.get("cache-tag"), out.headers.get("surrogate-key"), out.headers.get("x-keep")]).toStrictEqual([null, null, "k"]);
    expect(await out.text()).toBe("body");
  });

  it("returns a response without tags as it is", () => {
    const res = new Response("x");
    expect(hidePurgeTags(res)).toBe(res);
  });
});
