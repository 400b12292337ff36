/** The pure purge rules: verdicts by generation, selector and strength; tag parsing. */
import { describe, expect, it } from "vitest";
import { marked, NO_MARK, PurgeSnapshot, responseTags, type MarkRecord } from "../../src/purge/rules";

function snapshot(seq: number, marks: MarkRecord[], all = NO_MARK): PurgeSnapshot {
  const s = new PurgeSnapshot();
  s.apply({ seq, all, marks });
  return s;
}
const hard = (seq: number) => marked(NO_MARK, seq, false, 0);
const soft = (seq: number) => marked(NO_MARK, seq, true, 0);

describe("verdict", () => {
  const s = snapshot(9, [
    { kind: "url", name: "/a?x=1", mark: hard(3) },
    { kind: "prefix", name: "/api/", mark: soft(5) },
    { kind: "prefix", name: "/api/v2/", mark: hard(6) },
    { kind: "tag", name: "t1", mark: hard(7) },
  ]);
  it.each([
    ["older entry, its URL purged", { gen: 2, url: "/a?x=1" }, "hard"],
    ["newer entry, its URL purged before it was stored", { gen: 3, url: "/a?x=1" }, "none"],
    ["other query", { gen: 0, url: "/a?x=2" }, "none"],
    ["under a soft prefix", { gen: 4, url: "/api/list" }, "soft"],
    ["under both prefixes: the hard one wins", { gen: 4, url: "/api/v2/x" }, "hard"],
    ["prefix is a string prefix, not a segment one", { gen: 0, url: "/apiary" }, "none"],
    ["tagged", { gen: 6, url: "/z", tags: ["t0", "t1"] }, "hard"],
    ["no stamp: only 'all' applies", undefined, "none"],
  ] as const)("%s", (_name, stamp, verdict) => {
    expect(s.verdict(stamp)).toBe(verdict);
  });

  it("all: hard beats the entry's generation, soft after hard is soft", () => {
    const s2 = snapshot(4, [], { hard: 2, soft: 4, at: 0 });
    expect(s2.verdict({ gen: 1, url: "/" })).toBe("hard");
    expect(s2.verdict({ gen: 2, url: "/" })).toBe("soft");
    expect(s2.verdict({ gen: 4, url: "/" })).toBe("none");
    expect(s2.verdict(undefined)).toBe("hard");
  });

  it("marks only grow: an older read never undoes a newer one", () => {
    const s3 = snapshot(5, [{ kind: "url", name: "/a", mark: hard(5) }]);
    s3.apply({ seq: 3, all: NO_MARK, marks: [{ kind: "url", name: "/a", mark: hard(3) }] });
    expect(s3.seq).toBe(5);
    expect(s3.verdict({ gen: 4, url: "/a" })).toBe("hard");
  });
});

describe("expiry and full sets in an isolate's copy", () => {
  const at = (seq: number, ms: number) => marked(NO_MARK, seq, false, ms);

  it("marks older than the object's horizon are dropped, prefixes included; newer ones stay", () => {
    const s = snapshot(3, [
      { kind: "url", name: "/old", mark: at(1, 100) },
      { kind: "prefix", name: "/p/", mark: at(2, 100) },
      { kind: "tag", name: "t", mark: at(3, 300) },
    ]);
    expect(s.verdict({ gen: 0, url: "/p/x" })).toBe("hard");
    s.apply({ seq: 3, all: NO_MARK, marks: [], horizon: 200 });
    expect([s.size, s.horizon, s.lastAt]).toEqual([1, 200, 300]);
    expect(s.verdict({ gen: 0, url: "/p/x" })).toBe("none");
    expect(s.verdict({ gen: 0, url: "/old" })).toBe("none");
    expect(s.verdict({ gen: 0, url: "/z", tags: ["t"] })).toBe("hard");
  });

  it("a full set replaces the copy when at least as new, and only merges when older", () => {
    const s = snapshot(5, [{ kind: "url", name: "/a", mark: at(5, 1) }]);
    s.apply({ seq: 4, all: NO_MARK, marks: [{ kind: "url", name: "/b", mark: at(4, 1) }], full: true });
    expect([s.seq, s.urls.has("/a"), s.urls.has("/b")]).toEqual([5, true, true]);
    s.apply({ seq: 6, all: NO_MARK, marks: [{ kind: "url", name: "/c", mark: at(6, 1) }], full: true });
    expect([s.seq, s.size, s.urls.has("/c")]).toEqual([6, 1, true]);
  });
});

describe("responseTags", () => {
  it("reads Cache-Tag (commas) and Surrogate-Key (spaces), de-duplicated and bounded", () => {
    const headers = new Headers({ "cache-tag": "a, b,c", "surrogate-key": "c d  e" });
    expect(responseTags(headers, 64, 1024)).toEqual(["a", "b", "c", "d", "e"]);
    expect(responseTags(headers, 2, 1024)).toEqual(["a", "b"]);
    expect(responseTags(new Headers({ "cache-tag": `${"x".repeat(5)},y` }), 64, 3)).toEqual(["y"]);
    expect(responseTags(new Headers(), 64, 1024)).toEqual([]);
  });
});
