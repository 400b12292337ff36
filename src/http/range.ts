import { RANGE_MAX_SPECS } from "../constants";
import { parseHttpDate } from "./http-date";

/**
 * Byte ranges of a complete representation (RFC 9110 §14), for a cache that holds whole
 * responses and answers `Range` itself. Pure: the caller supplies the request's fields, the
 * response's fields and the representation's length.
 *
 * What Brim answers: one range (or several that overlap or touch, coalesced into one, as
 * §14.2 allows) → `206`; ranges that do not overlap the representation → `416`; anything else
 * (several disjoint ranges, an invalid or unknown-unit Range, a failed If-Range, a method other
 * than GET, a status other than 200) → the full `200`, which §14.2 permits ("a server MAY
 * ignore the Range header field"). Multipart/byteranges is never produced.
 */

/** First and last byte position, inclusive (RFC 9110 §14.1.2). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export type RangeAnswer =
  /** Ignore Range: send the whole 200. */
  | { readonly kind: "full" }
  | { readonly kind: "partial"; readonly range: ByteRange }
  /** 416 with `Content-Range: bytes *\/length` (RFC 9110 §15.5.17). */
  | { readonly kind: "unsatisfiable" };

/** One range-spec (RFC 9110 §14.1.1): `first-last`, `first-`, or the suffix `-n`. */
export type RangeSpec = { readonly first: number; readonly last: number | null } | { readonly suffix: number };

export interface RangeInput {
  readonly method: string;
  /** Status of the response that would be sent in full. */
  readonly status: number;
  /** The request's `Range` and `If-Range`, null when absent. */
  readonly range: string | null;
  readonly ifRange: string | null;
  /** The response's `ETag`, `Last-Modified` and `Date`, null when absent. */
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly date: string | null;
  /** Length of the representation's bytes as they would be sent. */
  readonly length: number;
}

const FULL: RangeAnswer = { kind: "full" };
const UNSATISFIABLE: RangeAnswer = { kind: "unsatisfiable" };
const BYTES_UNIT = /^\s*bytes\s*=/i;
const INT_RANGE = /^(\d+)-(\d*)$/;
const SUFFIX_RANGE = /^-(\d+)$/;

/** What to send for a request's Range, given the full response that would otherwise go out. */
export function evaluateRange(input: RangeInput): RangeAnswer {
  // §14.2: range handling is defined for GET only; only a complete 200 is sliced.
  if (input.range === null || input.method !== "GET" || input.status !== 200) return FULL;
  const specs = parseRange(input.range);
  if (specs === null) return FULL;
  // §13.1.5: a validator that does not match means the whole current representation.
  if (input.ifRange !== null && !ifRangeHolds(input.ifRange, input)) return FULL;
  return selectRange(specs, input.length);
}

/**
 * The range-specs of a `bytes` Range value, or null when the value is invalid, uses another
 * unit, or lists more than RANGE_MAX_SPECS ranges: such a Range is ignored (§14.2). Empty list
 * elements are allowed (§5.6.1); an int-range whose last position is before its first makes
 * the whole field invalid (§14.1.1).
 */
export function parseRange(value: string): RangeSpec[] | null {
  const unit = BYTES_UNIT.exec(value);
  if (!unit) return null;
  const specs: RangeSpec[] = [];
  for (const element of value.slice(unit[0].length).split(",")) {
    const text = element.trim();
    if (text === "") continue;
    if (specs.length === RANGE_MAX_SPECS) return null;
    const int = INT_RANGE.exec(text);
    if (int) {
      const first = Number(int[1]);
      const last = int[2] === "" ? null : Number(int[2]);
      if (last !== null && last < first) return null;
      specs.push({ first, last });
      continue;
    }
    const suffix = SUFFIX_RANGE.exec(text);
    if (!suffix) return null;
    specs.push({ suffix: Number(suffix[1]) });
  }
  return specs.length > 0 ? specs : null;
}

/**
 * The one range to send for `specs` over `length` bytes (§14.1.2): each spec clipped to the
 * representation, overlapping or adjacent ones merged. None satisfiable → unsatisfiable;
 * several disjoint ones → the full response.
 */
export function selectRange(specs: readonly RangeSpec[], length: number): RangeAnswer {
  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const range = resolve(spec, length);
    if (range) ranges.push(range);
  }
  if (ranges.length === 0) {
    // A suffix range of an empty representation asks for all of it: nothing to slice (§14.1.2
    // has no way to write an empty range), so the full, empty 200 is the answer.
    return length === 0 && specs.some((spec) => "suffix" in spec && spec.suffix > 0) ? FULL : UNSATISFIABLE;
  }
  ranges.sort((a, b) => a.start - b.start);
  let merged = ranges[0]!;
  for (const next of ranges.slice(1)) {
    if (next.start > merged.end + 1) return FULL;
    merged = { start: merged.start, end: Math.max(merged.end, next.end) };
  }
  return { kind: "partial", range: merged };
}

/** §14.1.2: a spec's bytes within `length`, or null when it does not overlap them. */
function resolve(spec: RangeSpec, length: number): ByteRange | null {
  if ("suffix" in spec) {
    if (spec.suffix === 0 || length === 0) return null;
    return { start: Math.max(0, length - spec.suffix), end: length - 1 };
  }
  if (spec.first >= length) return null;
  return { start: spec.first, end: spec.last === null ? length - 1 : Math.min(spec.last, length - 1) };
}

/**
 * If-Range (RFC 9110 §13.1.5): an entity-tag matches only by strong comparison (§8.8.3.2: both
 * strong, same opaque tag); an HTTP-date only when it equals Last-Modified and that date is a
 * strong validator, which for a cache means its stored Date is at least one second later
 * (§8.8.2.2). Anything else, including an unparseable value, does not match.
 */
export function ifRangeHolds(
  value: string,
  response: { readonly etag: string | null; readonly lastModified: string | null; readonly date: string | null },
): boolean {
  const tag = value.trim();
  if (tag.startsWith('"') || tag.startsWith("W/")) {
    const etag = response.etag?.trim();
    return etag !== undefined && !tag.startsWith("W/") && !etag.startsWith("W/") && tag === etag;
  }
  const when = parseHttpDate(tag);
  const lastModified = parseHttpDate(response.lastModified);
  const date = parseHttpDate(response.date);
  if (when === null || lastModified === null || date === null) return false;
  return when === lastModified && date - lastModified >= 1000;
}

/** `Content-Range` of a 206 (RFC 9110 §14.4). */
export function contentRange(range: ByteRange, length: number): string {
  return `bytes ${range.start}-${range.end}/${length}`;
}

/** `Content-Range` of a 416: the representation's length only (RFC 9110 §14.4). */
export function unsatisfiedRange(length: number): string {
  return `bytes */${length}`;
}

/**
 * Bytes `start`..`end` (inclusive) of `body`, streamed: earlier bytes are read and dropped, and
 * the source is cancelled once `end` went out. A body that ends before `end` errors the slice,
 * so a short body never looks like a complete 206.
 */
export function sliceBody(body: ReadableStream<Uint8Array>, start: number, end: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        const from = Math.max(0, start - offset);
        const to = Math.min(chunk.byteLength, end + 1 - offset);
        offset += chunk.byteLength;
        if (to > from) controller.enqueue(chunk.subarray(from, to));
        if (offset > end) controller.terminate();
      },
      flush(controller) {
        if (offset <= end) controller.error(new Error(`body ended at byte ${offset}, before the range's end ${end}`));
      },
    }),
  );
}
