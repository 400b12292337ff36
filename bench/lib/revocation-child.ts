/**
 * The revocation scenario's measurement, in its own Node process so its heap is its own:
 * `node --expose-gc --import tsx bench/lib/revocation-child.ts <entries> <lookups>`.
 * Streams a published feed of `entries` random UUIDs (what jti usually are) through Brim's
 * `FeedParser` in 64 KiB chunks, as the `RevocationList` object does (parse time, memory kept
 * and peak), cuts the set into the segments isolates hold (`SegmentedSet`), times `lookups` hits
 * and `lookups` misses of `has` (hashing included), then adds one jti and measures what an
 * isolate is sent for that change (the segments that differ). Prints one JSON line.
 */
import { randomBytes } from "node:crypto";
import { FingerprintSet, SegmentedSet, segmentBits } from "../../src/auth/revocation/set";
import { FeedParser } from "../../src/auth/revocation/stream";

const entries = Number(process.argv[2]);
const lookups = Number(process.argv[3]);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !(entries > 0) || !(lookups > 0))
  throw new Error("usage: node --expose-gc --import tsx revocation-child.ts <entries> <lookups>");

const ISSUER = "https://idp.bench";
const CHUNK_CHARS = 64 * 1024;
const ids = uuids(entries);
const others = uuids(Math.min(lookups, entries));
const settle = () => {
  gc();
  gc();
  return process.memoryUsage();
};

// The feed's text is produced chunk by chunk (as it would arrive), never whole; only the time
// spent in the parser is counted.
const before = settle();
const parser = new FeedParser(ISSUER);
let parseMs = 0;
let feedChars = 0;
let peak = 0;
let text = `{"iss":${JSON.stringify(ISSUER)},"jti":[`;
const write = (chunk: string) => {
  feedChars += chunk.length;
  const started = performance.now();
  parser.write(chunk);
  parseMs += performance.now() - started;
  const usage = process.memoryUsage();
  peak = Math.max(peak, usage.heapUsed + usage.arrayBuffers - before.heapUsed - before.arrayBuffers);
};
for (let i = 0; i < ids.length; i++) {
  text += `${i === 0 ? "" : ","}"${ids[i]}"`;
  if (text.length >= CHUNK_CHARS) {
    write(text);
    text = "";
  }
}
write(`${text}]}`);
const started = performance.now();
const parsed = parser.end();
parseMs += performance.now() - started;
if (!parsed.ok) throw new Error(`the feed was rejected: ${parsed.reason} ${parsed.detail}`);
const published = FingerprintSet.fromSorted(parsed.feed.jti);
const after = settle();

// What isolates hold: the set cut into segments (views of the same buffer here).
const bits = segmentBits(published.size);
const segments = published.segments(bits);
const set = new SegmentedSet(bits, segments);

// One more jti: the segments that differ are what an isolate is sent.
const changed = published.withIds(["one-more-revoked-jti"]).segments(bits);
let deltaSegments = 0;
let deltaBytes = 0;
for (let i = 0; i < changed.length; i++) {
  const a = segments[i] as BigUint64Array;
  const b = changed[i] as BigUint64Array;
  if (a.length !== b.length || a.some((value, k) => value !== b[k])) {
    deltaSegments++;
    deltaBytes += b.byteLength;
  }
}

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
    feedMB: feedChars / 2 ** 20,
    parseMs,
    heapMB: heap / 2 ** 20,
    arrayBuffersMB: arrayBuffers / 2 ** 20,
    bytesPerEntry: (heap + arrayBuffers) / set.size,
    peakMB: peak / 2 ** 20,
    hitNs: hits.ns,
    missNs: misses.ns,
    hitsFound: hits.found,
    missesFound: misses.found,
    lookups,
    segments: segments.length,
    deltaSegments,
    deltaKB: deltaBytes / 1024,
    fullMB: (published.size * 8) / 2 ** 20,
  }),
);
