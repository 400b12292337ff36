/** The memory tier's bounded map (src/cache/memory.ts): count and byte bounds, LRU order, expiry. */
import { describe, expect, it } from "vitest";
import { BoundedLru } from "../../src/cache/memory";

describe("BoundedLru", () => {
  it("evicts the least recently used entry past the entry bound; a read makes an entry recent", () => {
    const lru = new BoundedLru<string>(2, 1_000);
    lru.set("a", "A", 10, 100);
    lru.set("b", "B", 10, 100);
    expect(lru.get("a", 0)).toBe("A");
    lru.set("c", "C", 10, 100);
    expect([lru.get("a", 0), lru.get("b", 0), lru.get("c", 0)]).toEqual(["A", undefined, "C"]);
    expect(lru.size).toBe(2);
  });

  it("evicts past the byte bound, and accounts replacements and deletions", () => {
    const lru = new BoundedLru<string>(100, 100);
    lru.set("a", "A", 40, 100);
    lru.set("b", "B", 40, 100);
    lru.set("b", "B2", 50, 100);
    expect(lru.bytes).toBe(90);
    lru.set("c", "C", 30, 100);
    expect([lru.get("a", 0), lru.get("b", 0), lru.get("c", 0)]).toEqual([undefined, "B2", "C"]);
    expect(lru.bytes).toBe(80);
    lru.delete("b");
    expect(lru.bytes).toBe(30);
  });

  it("never keeps what is larger than the whole bound (and drops what it replaced)", () => {
    const lru = new BoundedLru<string>(10, 100);
    lru.set("a", "A", 10, 100);
    expect(lru.set("a", "huge", 101, 100)).toBe(false);
    expect(lru.get("a", 0)).toBeUndefined();
    expect([lru.size, lru.bytes]).toEqual([0, 0]);
  });

  it("an entry is gone at its expiry", () => {
    const lru = new BoundedLru<string>(10, 100);
    lru.set("a", "A", 10, 100);
    expect(lru.get("a", 99)).toBe("A");
    expect(lru.get("a", 100)).toBeUndefined();
    expect(lru.bytes).toBe(0);
  });
});
