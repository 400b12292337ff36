/**
 * The revocation scenario's measurement, in its own Node process so its heap is its own:
 * `node --expose-gc --import tsx bench/lib/revocation-child.ts <entries> <lookups>`.
 * Builds Brim's `FingerprintSet` from `entries` random UUIDs (what jti usually are), then times
 * `lookups` hits and `lookups` misses of `has` (hashing included). Prints one JSON line.
 */
import { randomBytes } from "node:crypto";
import { FingerprintSet } from "../../src/auth/revocation/set";

const entries = Number(process.argv[2]);
const lookups = Number(process.argv[3]);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !(entries > 0) || !(lookups > 0))
  throw new Error("usage: node --expose-gc --import tsx revocation-child.ts <entries> <lookups>");

const ids = uuids(entries);
const others = uuids(Math.min(lookups, entries));
const settle = () => {
  gc();
  gc();
  return process.memoryUsage();
};

const before = settle();
const started = performance.now();
const set = FingerprintSet.fromIds(ids);
const buildMs = performance.now() - started;
const after = settle();

/**
 * `n` random version-4 UUIDs as flat strings. (`crypto.randomUUID()` returns ropes of ~470 bytes
 * each that V8 flattens on first read, which would show up as the set "freeing" memory.)
 */
function uuids(n: number): string[] {
  const random = randomBytes(16 * n);
  const text = Buffer.alloc(36);
  const HEX = "0123456789abcdef";
  const out: string[] = new Array(n);
  for (let k = 0; k < n; k++) {
    const r = random.subarray(16 * k, 16 * k + 16);
    r[6] = ((r[6] ?? 0) & 0x0f) | 0x40;
    r[8] = ((r[8] ?? 0) & 0x3f) | 0x80;
    let j = 0;
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) text[j++] = 0x2d;
      text[j++] = HEX.charCodeAt((r[i] ?? 0) >> 4);
      text[j++] = HEX.charCodeAt((r[i] ?? 0) & 15);
    }
    out[k] = text.toString("latin1");
  }
  return out;
}

/** ns per `has`, over `n` calls cycling through `list`; `found` counts trues so no call is optimized away. */
function timeLookups(list: readonly string[], n: number): { ns: number; found: number } {
  let found = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (set.has(list[i % list.length] as string)) found++;
  return { ns: Number(process.hrtime.bigint() - start) / n, found };
}
timeLookups(ids, Math.min(lookups, 100_000)); // Warm-up: let V8 optimize `has`.
const hits = timeLookups(ids, lookups);
const misses = timeLookups(others, lookups);

const heap = after.heapUsed - before.heapUsed;
const arrayBuffers = after.arrayBuffers - before.arrayBuffers;
console.log(
  JSON.stringify({
    entries: set.size,
    buildMs,
    heapMB: heap / 2 ** 20,
    arrayBuffersMB: arrayBuffers / 2 ** 20,
    bytesPerEntry: (heap + arrayBuffers) / set.size,
    hitNs: hits.ns,
    missNs: misses.ns,
    hitsFound: hits.found,
    missesFound: misses.found,
    lookups,
  }),
);
