/**
 * An origin's Content-Encoding, as Brim receives it: exact bytes (`encodeResponseBody:
 * "manual"`), never decoded by the runtime. Brim decodes only when it must (the client does not
 * accept the coding, or Brim re-encodes for its own variant), always within the route's limits.
 */
import { DECODE_MAX_RATIO, DECODE_RATIO_FLOOR_BYTES } from "../constants";
import { BodyFault } from "../http/body";
import { canonicalCoding, parseAcceptEncoding } from "../http/accept-encoding";
import { decompressStream } from "./codec";

/** Codings Brim can decode. `x-gzip` is `gzip` (RFC 9110 §8.4.1.3). */
export type DecodableCoding = "gzip" | "br" | "zstd" | "deflate";
const DECODABLE: ReadonlyMap<string, DecodableCoding> = new Map([
  ["gzip", "gzip"],
  ["x-gzip", "gzip"],
  ["br", "br"],
  ["zstd", "zstd"],
  ["deflate", "deflate"],
]);

/**
 * - `identity`: no Content-Encoding (or only `identity`).
 * - `known`: codings Brim can decode, in the order they were applied (RFC 9110 §8.4).
 * - `unknown`: at least one coding Brim cannot decode; `codings` as listed (lower-cased).
 */
export type OriginCodings =
  | { readonly kind: "identity" }
  | { readonly kind: "known"; readonly codings: readonly DecodableCoding[] }
  | { readonly kind: "unknown"; readonly codings: readonly string[] };

/** Reads Content-Encoding. Pure. */
export function originCodings(headers: Headers): OriginCodings {
  const value = headers.get("content-encoding");
  if (value === null) return { kind: "identity" };
  const listed = value
    .split(",")
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== "" && coding !== "identity");
  if (listed.length === 0) return { kind: "identity" };
  const known: DecodableCoding[] = [];
  for (const coding of listed) {
    const decodable = DECODABLE.get(coding);
    if (!decodable) return { kind: "unknown", codings: listed };
    known.push(decodable);
  }
  return { kind: "known", codings: known };
}

/**
 * True when the client accepts every listed coding (RFC 9110 §12.5.3: a coding is acceptable
 * when listed with q > 0, or through `*`); no Accept-Encoding means identity only here, as in
 * `negotiateEncoding`.
 */
export function acceptsAll(acceptEncoding: string | null, codings: readonly string[]): boolean {
  if (acceptEncoding === null) return codings.length === 0;
  const weights = parseAcceptEncoding(acceptEncoding);
  const star = weights.get("*") ?? 0;
  return codings.every((coding) => {
    const q = weights.get(canonicalCoding(coding)) ?? star;
    return q > 0;
  });
}

export interface DecodeLimits {
  /** Most decoded bytes allowed (the route's `maxObjectBytes`). */
  readonly maxBytes: number;
  /** Told once when decoding fails (limit or invalid data). */
  readonly onFault?: (fault: BodyFault) => void;
}

/**
 * Decodes `codings` (as applied, so undone last-first) within `limits`: past `maxBytes`, or
 * past DECODE_MAX_RATIO × the encoded bytes once DECODE_RATIO_FLOOR_BYTES came out, the stream
 * errors with a `decode-limit` BodyFault; invalid data errors with `undecodable`.
 */
export function decodeBody(
  body: ReadableStream<Uint8Array>,
  codings: readonly DecodableCoding[],
  limits: DecodeLimits,
): ReadableStream<Uint8Array> {
  let encodedBytes = 0;
  let reported = false;
  const report = (fault: BodyFault): BodyFault => {
    if (!reported) limits.onFault?.(fault);
    reported = true;
    return fault;
  };
  let out = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        encodedBytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
    }),
  );
  for (let i = codings.length - 1; i >= 0; i--) {
    const last = i === 0;
    out = out.pipeThrough(
      decompressStream(codings[i]!, (produced) => {
        if (produced > limits.maxBytes) return report(new BodyFault("decode-limit", `decoded body passes ${limits.maxBytes} bytes`));
        if (last && produced > DECODE_RATIO_FLOOR_BYTES && produced > encodedBytes * DECODE_MAX_RATIO) {
          return report(new BodyFault("decode-limit", `decoded ${produced} bytes from ${encodedBytes} (more than ${DECODE_MAX_RATIO}×)`));
        }
        return null;
      }),
    );
  }
  // Anything else that fails here is the origin's data not matching its declared coding; a
  // fault from upstream (incomplete, idle) passes through as it is.
  return relabel(out, (error) => (error instanceof BodyFault ? error : report(new BodyFault("undecodable", String(error)))));
}

/** The same stream, with errors passed through `map` (pulls one chunk at a time). */
function relabel(source: ReadableStream<Uint8Array>, map: (error: unknown) => unknown): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          controller.error(map(error));
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
