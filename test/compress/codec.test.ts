import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { ALL_CODINGS } from "../../src/http/accept-encoding";
import { compressStream, decompressStream, PRODUCED_CODINGS, type ProducedCoding } from "../../src/compress/codec";
import { nodeDecode } from "../support/origin";

const decodeSync = { br: zlib.brotliDecompressSync, zstd: zlib.zstdDecompressSync, gzip: zlib.gunzipSync } as const;
/** zstd is checked by Node's libzstd: workerd's decoder stops after the first frame (docs/compression.md). */
async function decodeProduced(coding: ProducedCoding, bytes: Uint8Array): Promise<Uint8Array> {
  return coding === "zstd" ? nodeDecode("zstd", bytes) : new Uint8Array(decodeSync[coding](bytes));
}
const encodeSync = { br: zlib.brotliCompressSync, zstd: zlib.zstdCompressSync, gzip: zlib.gzipSync } as const;

function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

const json = new TextEncoder().encode(
  JSON.stringify(Array.from({ length: 3000 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ["a", "b"] }))),
);

/** Pseudo-random text: workerd's streaming zstd encoder failed on exactly this kind of input. */
function noisy(n: number): Uint8Array {
  let text = "";
  let x = 12345;
  while (text.length < n) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    text += x.toString(36) + (x % 7 === 0 ? "\n" : " ");
  }
  return new TextEncoder().encode(text.slice(0, n));
}

describe("codec round trips in workerd's node:zlib", () => {
  for (const size of [10_000, 50_000, 100_000, 300_000, 2_000_000]) {
    it(`every coding round-trips ${size} bytes of noisy text in 16 KiB chunks`, async () => {
      const input = noisy(size);
      for (const coding of PRODUCED_CODINGS) {
        const out = new Uint8Array(await new Response(chunked(input, 16_384).pipeThrough(compressStream(coding))).arrayBuffer());
        expect(await decodeProduced(coding, out), coding).toEqual(input);
      }
      // Up to 2 MB compressed and decoded in every coding (CPU-bound): an explicit budget for a busy machine.
    }, 30_000);
  }

  for (const coding of PRODUCED_CODINGS) {
    it(`${coding}: streaming compression decodes to the original bytes and is smaller`, async () => {
      const compressed = new Uint8Array(await new Response(chunked(json, 7000).pipeThrough(compressStream(coding))).arrayBuffer());
      expect(compressed.byteLength).toBeLessThan(json.byteLength / 4);
      expect(await decodeProduced(coding, compressed)).toEqual(json);
    });
  }

  for (const coding of ALL_CODINGS) {
    it(`${coding}: streaming decompression restores the bytes, and a bomb is cut off`, async () => {
      const encoded = new Uint8Array(encodeSync[coding](json));
      const decoded = new Uint8Array(
        await new Response(chunked(encoded, 500).pipeThrough(decompressStream(coding, () => null))).arrayBuffer(),
      );
      expect(decoded).toEqual(json);
      await expect(
        new Response(
          chunked(encoded, 500).pipeThrough(decompressStream(coding, (n) => (n > 1000 ? new Error("exceeds 1000 bytes") : null))),
        ).arrayBuffer(),
      ).rejects.toThrow(/exceeds 1000 bytes/);
    });
  }
});
