import * as zlib from "node:zlib";
import type { Coding } from "../http/accept-encoding";
import { zstdCompressStream } from "./zstd";

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
 * Codings Brim produces. zstd comes from WebAssembly (src/compress/zstd.ts), not `node:zlib`:
 * workerd's zstd encoder (streaming and one-shot alike) fails with "Unexpected end of file"
 * once a frame's output passes about 64 KiB. Decoding zstd from origins still uses `node:zlib`.
 */
export type ProducedCoding = "br" | "gzip" | "zstd";
export const PRODUCED_CODINGS: readonly ProducedCoding[] = ["br", "gzip", "zstd"];

export function compressStream(coding: ProducedCoding): TransformStream<Uint8Array, Uint8Array> {
  compressions += 1;
  switch (coding) {
    case "br":
      return fromNode(() => zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY } }));
    case "gzip":
      return fromNode(() => zlib.createGzip({ level: GZIP_LEVEL }));
    case "zstd":
      return zstdCompressStream();
  }
}

/**
 * Decodes one content coding. `limit` is asked after every output chunk with the bytes produced
 * so far and returns an error to stop at once (a decompression bomb must not exhaust the
 * isolate: the check runs inside zlib's output callback, before anything is queued).
 */
export function decompressStream(
  coding: Coding | "deflate",
  limit: (producedBytes: number) => Error | null,
): TransformStream<Uint8Array, Uint8Array> {
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
  }, limit);
}

type NodeTransform = ReturnType<typeof zlib.createGzip>;

/** Adapts a Node zlib transform to a Web TransformStream, preserving backpressure per chunk. */
function fromNode(
  make: () => NodeTransform,
  limit: (producedBytes: number) => Error | null = () => null,
): TransformStream<Uint8Array, Uint8Array> {
  let stream: NodeTransform;
  let produced = 0;
  let failure: Error | null = null;
  // The pending write or end: settled by zlib's callback, or at once by a failure (zlib does not
  // always call back for a write it was destroyed during).
  let pending: { resolve: () => void; reject: (error: Error) => void } | null = null;
  const fail = (error: Error): void => {
    failure ??= error;
    pending?.reject(failure);
    pending = null;
  };
  const settle = (resolve: () => void, reject: (error: Error) => void) => (pending = { resolve, reject });
  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      stream = make();
      stream.on("data", (data: Buffer) => {
        if (failure) return;
        produced += data.byteLength;
        const over = limit(produced);
        if (over) {
          fail(over);
          stream.destroy(over);
          return;
        }
        controller.enqueue(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      });
      stream.on("error", fail);
      stream.on("end", () => {
        pending?.resolve();
        pending = null;
      });
    },
    transform(chunk) {
      return new Promise<void>((resolve, reject) => {
        if (failure) return reject(failure);
        settle(resolve, reject);
        stream.write(chunk, (error) => {
          if (error || failure) return fail(failure ?? error!);
          pending = null;
          resolve();
        });
      });
    },
    flush() {
      return new Promise<void>((resolve, reject) => {
        if (failure) return reject(failure);
        settle(resolve, reject);
        stream.end();
      });
    },
  });
}
