import * as zlib from "node:zlib";
import type { Coding } from "./accept-encoding";

/**
 * Streaming compression and decompression with workerd's `node:zlib` (flag `nodejs_compat`),
 * which has Brotli and zstd; the Web `CompressionStream` in workerd knows gzip/deflate only.
 * Levels favour speed for the first compression of a variant: Brotli quality 4 costs about
 * as much CPU as gzip 6 and compresses better.
 */
export const BROTLI_QUALITY = 4;
export const GZIP_LEVEL = 6;

let compressions = 0;

/** How many compressions this isolate has started (tests assert hits do none). */
export function compressionCount(): number {
  return compressions;
}

/**
 * Codings Brim produces. Not zstd: workerd's zstd encoder (streaming and one-shot alike) fails
 * with "Unexpected end of file" once a frame's output passes about 64 KiB, and its decoder
 * stops after the first frame, so splitting into frames is no way round it either. Brim still
 * decodes zstd from origins and passes it through to clients that asked for it.
 */
export type ProducedCoding = "br" | "gzip";
export const PRODUCED_CODINGS: readonly ProducedCoding[] = ["br", "gzip"];

export function compressStream(coding: ProducedCoding): TransformStream<Uint8Array, Uint8Array> {
  compressions += 1;
  switch (coding) {
    case "br":
      return fromNode(() => zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY } }));
    case "gzip":
      return fromNode(() => zlib.createGzip({ level: GZIP_LEVEL }));
  }
}

/**
 * Decodes a body the origin encoded itself, erroring once more than `maxBytes` come out
 * (a decompression bomb must not exhaust the isolate).
 */
export function decompressStream(coding: Coding | "deflate", maxBytes: number): TransformStream<Uint8Array, Uint8Array> {
  return fromNode(() => {
    switch (coding) {
      case "deflate":
        return zlib.createInflate();
      case "br":
        return zlib.createBrotliDecompress();
      case "zstd":
        return zlib.createZstdDecompress();
      case "gzip":
        return zlib.createGunzip();
    }
  }, maxBytes);
}

type NodeTransform = ReturnType<typeof zlib.createGzip>;

/** Adapts a Node zlib transform to a Web TransformStream, preserving backpressure per chunk. */
function fromNode(make: () => NodeTransform, maxOutputBytes = Infinity): TransformStream<Uint8Array, Uint8Array> {
  let stream: NodeTransform;
  let produced = 0;
  let failure: Error | null = null;
  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      stream = make();
      stream.on("data", (data: Buffer) => {
        produced += data.byteLength;
        if (produced > maxOutputBytes) {
          failure ??= new Error(`decoded body exceeds ${maxOutputBytes} bytes`);
          stream.destroy(failure);
          return;
        }
        controller.enqueue(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      });
      stream.on("error", (error: Error) => {
        failure ??= error;
      });
    },
    transform(chunk) {
      return new Promise<void>((resolve, reject) => {
        if (failure) return reject(failure);
        stream.write(chunk, (error) => (error || failure ? reject(error ?? failure) : resolve()));
      });
    },
    flush() {
      return new Promise<void>((resolve, reject) => {
        if (failure) return reject(failure);
        stream.once("end", () => (failure ? reject(failure) : resolve()));
        stream.once("error", reject);
        stream.end();
      });
    },
  });
}
