import * as zlib from "node:zlib";
import type { Coding } from "../http/accept-encoding";
import { zstdCompressStream } from "./zstd";
import { BROTLI_BEST_QUALITY, GZIP_BEST_LEVEL } from "../constants";

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

/**
 * A compressing stream for `coding`. Options: `best` (default false) uses the high-quality
 * levels of the background pass (src/compress/recompress.ts) instead of the fast ones;
 * `sizeHint` (bytes, default none) is the input length when known, which sizes Brotli's window
 * to the body (RFC 7932 §9.1: a decoder needs the window's memory, so no more than the input).
 */
export function compressStream(
  coding: ProducedCoding,
  options: { best?: boolean; sizeHint?: number } = {},
): TransformStream<Uint8Array, Uint8Array> {
  compressions += 1;
  const best = options.best ?? false;
  switch (coding) {
    case "br":
      return fromNode(() => zlib.createBrotliCompress({ params: brotliParams(best, options.sizeHint) }));
    case "gzip":
      return fromNode(() => zlib.createGzip({ level: best ? GZIP_BEST_LEVEL : GZIP_LEVEL }));
    case "zstd":
      // No best level: see RECOMPRESSED_CODINGS (src/compress/recompress.ts).
      return zstdCompressStream();
  }
}

/** Brotli's smallest and largest window, log2 bytes (RFC 7932 §9.1). */
const BROTLI_MIN_WINDOW_BITS = 10;
const BROTLI_MAX_WINDOW_BITS = 24;

function brotliParams(best: boolean, sizeHint: number | undefined): Record<number, number> {
  const params: Record<number, number> = { [zlib.constants.BROTLI_PARAM_QUALITY]: best ? BROTLI_BEST_QUALITY : BROTLI_QUALITY };
  if (sizeHint !== undefined && sizeHint > 0) {
    params[zlib.constants.BROTLI_PARAM_SIZE_HINT] = sizeHint;
    const bits = Math.ceil(Math.log2(sizeHint));
    params[zlib.constants.BROTLI_PARAM_LGWIN] = Math.min(BROTLI_MAX_WINDOW_BITS, Math.max(BROTLI_MIN_WINDOW_BITS, bits));
  }
  return params;
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
