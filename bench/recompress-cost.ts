/**
 * The CPU cost of two-pass compression (docs/compression.md#two-pass-compression): the bench
 * origin's ~100 KB JSON and HTML compressed at the miss's fast levels and at the background
 * pass's best levels, with the parameters src/compress/codec.ts uses, in Node's `node:zlib`
 * (the same Brotli and zlib C libraries workerd links). Prints bytes and median ms per pass.
 * Not a test: timing belongs here, not in unit tests. `npx tsx bench/recompress-cost.ts [bytes]`
 */
import * as zlib from "node:zlib";
import { BROTLI_BEST_QUALITY, GZIP_BEST_LEVEL } from "../src/constants";
import { makeBody } from "./origin/bodies";

const BROTLI_FAST_QUALITY = 4; // src/compress/codec.ts BROTLI_QUALITY (that module loads .wasm, which Node cannot import)
const GZIP_FAST_LEVEL = 6; // src/compress/codec.ts GZIP_LEVEL
const RUNS = 7;

function brotli(quality: number, input: Buffer): Buffer {
  const bits = Math.min(24, Math.max(10, Math.ceil(Math.log2(input.byteLength))));
  const { BROTLI_PARAM_QUALITY, BROTLI_PARAM_SIZE_HINT, BROTLI_PARAM_LGWIN } = zlib.constants;
  return zlib.brotliCompressSync(input, {
    params: { [BROTLI_PARAM_QUALITY]: quality, [BROTLI_PARAM_SIZE_HINT]: input.byteLength, [BROTLI_PARAM_LGWIN]: bits },
  });
}

function timed(run: () => Buffer): { bytes: number; ms: number } {
  run();
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    bytes = run().byteLength;
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { bytes, ms: times[Math.floor(RUNS / 2)]! };
}

const size = Number(process.argv[2] ?? 100_000);
for (const kind of ["json", "html"] as const) {
  const input = Buffer.from(makeBody(kind, size));
  const rows = {
    [`br ${BROTLI_FAST_QUALITY} (miss)`]: timed(() => brotli(BROTLI_FAST_QUALITY, input)),
    [`br ${BROTLI_BEST_QUALITY} (background)`]: timed(() => brotli(BROTLI_BEST_QUALITY, input)),
    [`gzip ${GZIP_FAST_LEVEL} (miss)`]: timed(() => zlib.gzipSync(input, { level: GZIP_FAST_LEVEL })),
    [`gzip ${GZIP_BEST_LEVEL} (background)`]: timed(() => zlib.gzipSync(input, { level: GZIP_BEST_LEVEL })),
  };
  console.log(`${kind}, ${input.byteLength} bytes identity (${process.version})`);
  for (const [name, { bytes, ms }] of Object.entries(rows))
    console.log(`  ${name.padEnd(22)} ${String(bytes).padStart(8)} bytes ${ms.toFixed(1).padStart(8)} ms`);
}
