import { compressStream, type ProducedCoding } from "./codec";

/**
 * The second compression pass (docs/compression.md#two-pass-compression): a miss is answered
 * with the fast level and stores that variant; the identity bytes it was made from are kept
 * (up to a bound) and, in the background, compressed again at the best level. The orchestrator
 * (src/pipeline/recompress.ts) replaces the stored variant when the result is smaller.
 */

/** The identity bytes flowing into Brim's compressor, copied up to a bound. */
export interface IdentityCapture {
  /** Put in front of the compressor: passes every chunk through, copying it while under the bound. */
  readonly stream: TransformStream<Uint8Array, Uint8Array>;
  /** The whole identity body once it ended cleanly within the bound; null otherwise. */
  bytes(): Uint8Array | null;
  /** Stops copying and frees what was copied (the response is not stored after all). */
  discard(): void;
}

/**
 * Copies the identity body as it streams to the compressor, at most `maxBytes`: past that (or
 * after `discard`) the copy is dropped and chunks only pass through. Nothing is read that the
 * client's response does not read anyway, so it adds no backpressure and no extra buffering of
 * the client's stream.
 */
export function identityCapture(maxBytes: number): IdentityCapture {
  let parts: Uint8Array[] | null = [];
  let total = 0;
  let complete = false;
  return {
    stream: new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (parts !== null) {
          total += chunk.byteLength;
          if (total > maxBytes) parts = null;
          else parts.push(chunk.slice());
        }
        controller.enqueue(chunk);
      },
      flush() {
        complete = true;
      },
    }),
    bytes() {
      if (!complete || parts === null) return null;
      const out = new Uint8Array(total);
      let offset = 0;
      for (const part of parts) {
        out.set(part, offset);
        offset += part.byteLength;
      }
      return out;
    },
    discard() {
      parts = null;
    },
  };
}

/**
 * Codings that get the second pass: Brotli 11 and gzip 9. Not zstd: level 19 in the WebAssembly
 * build (src/compress/zstd.ts) took about three minutes for 100 KiB of noisy text inside workerd
 * (63 ms in Node's V8 with the same module), far past any CPU budget, so zstd variants stay at
 * level 3.
 */
export const RECOMPRESSED_CODINGS: ReadonlySet<string> = new Set<RecompressedCoding>(["br", "gzip"]);
export type RecompressedCoding = Extract<ProducedCoding, "br" | "gzip">;

/** Compresses `identity` with `coding` at the best level (src/constants.ts), whole. */
export async function compressBest(coding: RecompressedCoding, identity: Uint8Array): Promise<Uint8Array> {
  const input = new Response(identity).body!;
  const output = input.pipeThrough(compressStream(coding, { best: true, sizeHint: identity.byteLength }));
  return new Uint8Array(await new Response(output).arrayBuffer());
}
