/**
 * Two-pass compression (docs/compression.md#two-pass-compression): a miss answers and stores the
 * fast variant; in its `waitUntil` the same identity bytes are compressed at the best level and
 * replace the stored variant when smaller, only if the entry is still the one that miss wrote.
 * `beforeReplace` holds each pass just before its replacing write, so other requests can land
 * in between without measuring time.
 */
import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { RECOMPRESS_MAX_BYTES } from "../../src/constants";
import { formatHttpDate } from "../../src/http/http-date";
import { testBrim, type TestBrim } from "../support/brim";
import { count, nodeDecode, script, uniquePath } from "../support/origin";
import { purge, uniqueTenant } from "../purge/support";

const WORDS = "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega river stone cloud ember frost".split(" ");

/** JSON of about `bytes`, varied enough that Brotli 11 clearly beats Brotli 4 (pseudo-random, seeded). */
function jsonBody(bytes: number, seed = 1): string {
  let state = seed;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const items: unknown[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const item = {
      id: i,
      sku: Math.floor(next() * 1e10).toString(36),
      title: Array.from({ length: 4 }, () => WORDS[Math.floor(next() * WORDS.length)]).join(" "),
      price: Math.round(next() * 1e5) / 100,
      stock: Math.floor(next() * 500),
    };
    items.push(item);
    length += JSON.stringify(item).length + 1;
  }
  return JSON.stringify({ items });
}

const BODY = jsonBody(100_000);
const JSON_200 = (max: number, etag = '"v1"') => ({ "cache-control": `max-age=${max}`, "content-type": "application/json", etag });

/** workerd's node:zlib; nodeDecode (the test origin's Node) is the independent check. */
const unbrotli = (b: Uint8Array): Uint8Array => zlib.brotliDecompressSync(b);

/** Holds each background pass just before its replacing write until the test releases it. */
class Gate {
  readonly #held: (() => void)[] = [];
  #arrived: (() => void)[] = [];
  #open = false;
  readonly beforeReplace = (): Promise<void> =>
    new Promise<void>((release) => {
      if (this.#open) return release();
      this.#held.push(release);
      for (const wake of this.#arrived.splice(0)) wake();
    });
  /** How many passes reached the gate. */
  get count(): number {
    return this.#held.length;
  }
  /** Resolves once `n` passes have reached the gate (each after its fast variant was committed). */
  async arrived(n: number): Promise<void> {
    while (this.#held.length < n) await new Promise<void>((wake) => this.#arrived.push(wake));
  }
  /** Lets the `i`-th pass (0-based, in arrival order) go on. */
  release(i: number): void {
    this.#held[i]!();
  }
  /** Lets every pass go on, now and from now on (before requests whose own pass must not wait). */
  open(): void {
    this.#open = true;
    for (const release of this.#held) release();
  }
}

interface Read {
  status: string;
  coding: string | null;
  bytes: Uint8Array;
  headers: Headers;
}

async function read(brim: TestBrim, path: string, coding: string, init: { host?: string } = {}): Promise<Read> {
  const res = await brim.fetch(path, { ...init, headers: { "accept-encoding": coding } });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const length = res.headers.get("content-length");
  // A complete body: when a length is sent, it is the length of what arrived (RFC 9110 §8.6).
  if (length !== null) expect(Number(length)).toBe(bytes.byteLength);
  return { status: res.headers.get("cache-status") ?? "", coding: res.headers.get("content-encoding"), bytes, headers: res.headers };
}

/** A miss whose body is read now while its background pass stays held at `gate`. */
async function heldMiss(brim: TestBrim, path: string, coding: string): Promise<Uint8Array> {
  const res = await brim.fetch(path, { headers: { "accept-encoding": coding }, background: false });
  expect(res.headers.get("cache-status")).toMatch(/stored/);
  return new Uint8Array(await res.arrayBuffer());
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("two-pass compression: the stored variant is recompressed at the best level in the background", () => {
  for (const coding of ["br", "gzip"] as const) {
    it(`${coding}: the first hit gets the fast variant, and after the pass a smaller one that decodes to the same body`, async () => {
      const gate = new Gate();
      const brim = testBrim(
        { acme: [{ path: "/*", cache: {}, compression: { encodings: ["br", "gzip", "zstd"] } }] },
        { recompress: gate },
      );
      const path = uniquePath();
      await script(path, [{ headers: JSON_200(60), body: BODY }]);
      const fast = await heldMiss(brim, path, coding);
      await gate.arrived(1);

      const first = await read(brim, path, coding);
      expect(first.status).toMatch(/^Brim; hit/);
      expect(first.bytes).toEqual(fast);

      gate.release(0);
      await brim.settled();
      const best = await read(brim, path, coding);
      expect(best.status).toMatch(/^Brim; hit/);
      expect(best.coding).toBe(coding);
      // Decoded by Node's own zlib on the test origin (native libzstd), not by what encoded it.
      expect(text(await nodeDecode(coding, best.bytes))).toBe(BODY);
      expect(best.bytes.byteLength).toBeLessThan(fast.byteLength);
      // Everything but the bytes is the entry's: validators, freshness, Vary.
      for (const name of ["etag", "cache-control", "vary", "content-type", "content-encoding"])
        expect(best.headers.get(name), name).toBe(first.headers.get(name));
      expect(best.headers.get("etag")).toBe('W/"v1"');
      expect(await count(path)).toBe(1);
    });
  }

  it("zstd variants keep the level they were stored with (no second pass)", async () => {
    const gate = new Gate();
    const brim = testBrim({ acme: [{ path: "/*", cache: {}, compression: { encodings: ["zstd"] } }] }, { recompress: gate });
    const path = uniquePath();
    await script(path, [{ headers: JSON_200(60), body: BODY }]);
    const miss = await read(brim, path, "zstd");
    expect(miss.coding).toBe("zstd");
    const hit = await read(brim, path, "zstd");
    expect(hit.status).toMatch(/^Brim; hit/);
    expect(hit.bytes).toEqual(miss.bytes);
    expect(gate.count).toBe(0);
  });

  it("without holding it, the pass is done once the miss's background work settles", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: {} }] });
    const path = uniquePath();
    await script(path, [{ headers: JSON_200(60), body: BODY }]);
    const miss = await read(brim, path, "br");
    const hit = await read(brim, path, "br");
    expect(hit.status).toMatch(/^Brim; hit/);
    expect(hit.bytes.byteLength).toBeLessThan(miss.bytes.byteLength);
    expect(text(unbrotli(hit.bytes))).toBe(BODY);
    // A conditional request still matches the weak validator across the two encodings.
    const conditional = await brim.fetch(path, { headers: { "accept-encoding": "br", "if-none-match": 'W/"v1"' } });
    expect(conditional.status).toBe(304);
  });

  it("replaces atomically: every read during the replacement is a whole body, old or new", async () => {
    const gate = new Gate();
    const brim = testBrim({ acme: [{ path: "/*", cache: {} }] }, { recompress: gate });
    // Another isolate without a memory tier: every one of its hits reads the Cache API.
    const other = testBrim({ acme: [{ path: "/*", cache: {} }] }, { memoryTier: { maxEntryBytes: 0 } });
    const path = uniquePath();
    await script(path, [{ headers: JSON_200(60), body: BODY }]);
    const fast = await heldMiss(brim, path, "br");
    await gate.arrived(1);
    gate.release(0);
    let done = false;
    const settled = brim.settled().then(() => (done = true));
    const sizes = new Set<number>();
    for (let i = 0; i < 200 && !done; i++) {
      const res = await read(i % 2 === 0 ? other : brim, path, "br");
      expect(res.status).toMatch(/^Brim; hit/);
      expect(text(unbrotli(res.bytes))).toBe(BODY);
      sizes.add(res.bytes.byteLength);
    }
    await settled;
    const after = await read(brim, path, "br");
    expect(after.status).toMatch(/^Brim; hit/);
    expect(after.bytes.byteLength).toBeLessThan(fast.byteLength);
    expect((await read(other, path, "br")).bytes).toEqual(after.bytes);
    for (const size of sizes) expect([fast.byteLength, after.bytes.byteLength]).toContain(size);
    expect(await count(path)).toBe(1);
  });

  it("never replaces a newer entry: a revalidation that stored new content in between wins", async () => {
    const gate = new Gate();
    const brim = testBrim({ acme: [{ path: "/*", cache: { coalesce: false } }] }, { recompress: gate });
    const path = uniquePath();
    const next = jsonBody(100_000, 2);
    await script(path, [{ headers: JSON_200(5), body: BODY }]);
    await heldMiss(brim, path, "br");
    await gate.arrived(1);

    brim.clock.advance(10);
    await script(path, [{ headers: { ...JSON_200(60, '"v2"'), date: formatHttpDate(brim.clock.now()) }, body: next }]);
    const refetched = await heldMiss(brim, path, "br");
    expect(text(unbrotli(refetched))).toBe(next);
    await gate.arrived(2);

    gate.release(0); // the first miss's pass: its entry was replaced by the refetch
    gate.release(1); // the refetch's own pass
    await brim.settled();
    expect(brim.logs).toContainEqual(expect.objectContaining({ event: "recompress", result: "changed" }));
    const hit = await read(brim, path, "br");
    expect(hit.status).toMatch(/^Brim; hit/);
    expect(hit.headers.get("etag")).toBe('W/"v2"');
    expect(text(unbrotli(hit.bytes))).toBe(next);
    expect(hit.bytes.byteLength).toBeLessThan(refetched.byteLength);
    expect(await count(path)).toBe(2);
  });

  it("never brings back an invalidated entry (an unsafe request deleted it in between)", async () => {
    const gate = new Gate();
    const brim = testBrim({ acme: [{ path: "/*", cache: { coalesce: false } }] }, { recompress: gate });
    const path = uniquePath();
    await script(path, [{ headers: JSON_200(60), body: BODY }]);
    await heldMiss(brim, path, "br");
    await gate.arrived(1);

    const post = await brim.fetch(path, { method: "POST", body: "x" });
    expect(post.status).toBe(200);
    gate.open();
    await brim.settled();
    expect(brim.logs).toContainEqual(expect.objectContaining({ event: "recompress", result: "gone" }));
    const after = await read(brim, path, "br");
    expect(after.status).toMatch(/^Brim; fwd=uri-miss/);
    expect(await count(path)).toBe(3);
  });

  it("never brings back a purged entry (a purge landed in between)", async () => {
    const gate = new Gate();
    const tenant = uniqueTenant();
    const host = `${tenant}.test`;
    const brim = testBrim({ [tenant]: [{ path: "/*", cache: { coalesce: false } }] }, { recompress: gate, purge: true });
    const path = uniquePath();
    await script(path, [{ headers: JSON_200(60), body: BODY }]);
    const res = await brim.fetch(path, { host, headers: { "accept-encoding": "br" }, background: false });
    await res.arrayBuffer();
    await gate.arrived(1);

    expect((await purge(brim, host, { urls: [path] })).status).toBe(200);
    gate.open();
    await brim.settled();
    const after = await read(brim, path, "br", { host });
    expect(after.status).toMatch(/^Brim; fwd=miss; fwd-status=200; stored; detail=purged$/);
    expect(await count(path)).toBe(2);
  });

  it("leaves bodies above RECOMPRESS_MAX_BYTES as the miss stored them; bodies within it are recompressed", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: {} }] });
    const large = uniquePath();
    const largeBody = jsonBody(RECOMPRESS_MAX_BYTES + 10_000, 3);
    expect(largeBody.length).toBeGreaterThan(RECOMPRESS_MAX_BYTES);
    await script(large, [{ headers: JSON_200(60), body: largeBody }]);
    const miss = await read(brim, large, "br");
    const hit = await read(brim, large, "br");
    expect(hit.status).toMatch(/^Brim; hit/);
    expect(hit.bytes).toEqual(miss.bytes);
    expect(text(unbrotli(hit.bytes))).toBe(largeBody);

    const small = uniquePath();
    const cut = largeBody.lastIndexOf("},{", RECOMPRESS_MAX_BYTES - 20_000);
    const smallBody = `${largeBody.slice(0, cut + 1)}]}`;
    expect(JSON.parse(smallBody)).toBeTruthy();
    await script(small, [{ headers: JSON_200(60), body: smallBody }]);
    const smallMiss = await read(brim, small, "br");
    const smallHit = await read(brim, small, "br");
    expect(smallHit.bytes.byteLength).toBeLessThan(smallMiss.bytes.byteLength);
  });

  it("recompress.maxBytes 0 turns the pass off", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: {} }] }, { recompress: { maxBytes: 0 } });
    const path = uniquePath();
    await script(path, [{ headers: JSON_200(60), body: BODY }]);
    const miss = await read(brim, path, "br");
    const hit = await read(brim, path, "br");
    expect(hit.status).toMatch(/^Brim; hit/);
    expect(hit.bytes).toEqual(miss.bytes);
  });
});
