/**
 * Compact sets of revoked token ids: 64-bit fingerprints (8 bytes per id, so 10^6 ids are 8 MB),
 * sorted, looked up by binary search (~20 probes). `FingerprintSet` is the object's form: one
 * sorted `BigUint64Array`. `SegmentedSet` is the isolate's: the same fingerprints cut into 2^k
 * segments by their top bits (issue #16), so a change replaces only the segments it touches, and
 * a lookup compares u32 halves (no BigInt allocated per probe). Sorted rather than hashed: the
 * object builds each segment once and isolates take it as is, with no empty slots.
 */
import { REVOCATION_MAX_SEGMENT_BITS, REVOCATION_SEGMENT_TARGET_ENTRIES } from "../../constants";
import { fingerprint64, fingerprintHalves } from "../hash";

export class FingerprintSet {
  /** Sorted ascending, no duplicates. */
  readonly fingerprints: BigUint64Array;

  private constructor(sorted: BigUint64Array) {
    this.fingerprints = sorted;
  }

  static readonly EMPTY = new FingerprintSet(new BigUint64Array(0));

  /** Fingerprints the ids, sorts and de-duplicates them. */
  static fromIds(ids: Iterable<string>): FingerprintSet {
    const list: bigint[] = [];
    for (const id of ids) list.push(fingerprint64(id));
    return FingerprintSet.fromUnsorted(BigUint64Array.from(list));
  }

  /** Takes ownership of `values` (sorted in place). */
  static fromUnsorted(values: BigUint64Array): FingerprintSet {
    return new FingerprintSet(sortUnique(values));
  }

  /** Wraps fingerprints that are already sorted and unique (as `fingerprints` of another set). */
  static fromSorted(sorted: BigUint64Array): FingerprintSet {
    return new FingerprintSet(sorted);
  }

  get size(): number {
    return this.fingerprints.length;
  }

  has(id: string): boolean {
    return this.hasFingerprint(fingerprint64(id));
  }

  hasFingerprint(value: bigint): boolean {
    return search(this.fingerprints, value);
  }

  /**
   * The set cut into 2^bits segments by the fingerprints' top bits: views into this set's
   * buffer (no copy), segment i holding the fingerprints whose top `bits` bits are i.
   */
  segments(bits: number): BigUint64Array[] {
    const a = this.fingerprints;
    const out: BigUint64Array[] = [];
    let start = 0;
    for (let i = 0; i < 2 ** bits; i++) {
      const end = i === 2 ** bits - 1 ? a.length : lowerBound(a, BigInt(i + 1) << BigInt(64 - bits));
      out.push(a.subarray(start, end));
      start = end;
    }
    return out;
  }

  /** A new set holding this set's fingerprints and `ids'`. */
  withIds(ids: Iterable<string>): FingerprintSet {
    const extra: bigint[] = [];
    for (const id of ids) extra.push(fingerprint64(id));
    if (extra.length === 0) return this;
    const merged = new BigUint64Array(this.fingerprints.length + extra.length);
    merged.set(this.fingerprints);
    merged.set(extra, this.fingerprints.length);
    return FingerprintSet.fromUnsorted(merged);
  }
}

/**
 * The isolate's form of the set: the segments of `FingerprintSet.segments`, each sorted, looked
 * up by the fingerprint's top bits then binary search. Replacing a segment replaces only that
 * segment's fingerprints, so an isolate applies a small change without rebuilding the set.
 */
export class SegmentedSet {
  readonly #bits: number;
  /** Each segment as pairs of u32 (low, high): comparisons on numbers, no BigInt per probe. */
  readonly #segments: readonly Uint32Array[];
  readonly size: number;

  static readonly EMPTY = new SegmentedSet(0, [new BigUint64Array(0)]);

  constructor(bits: number, segments: readonly BigUint64Array[]) {
    if (segments.length !== 2 ** bits) throw new RangeError(`${segments.length} segments for ${bits} bits`);
    this.#bits = bits;
    this.#segments = segments.map((segment) => new Uint32Array(segment.buffer, segment.byteOffset, segment.length * 2));
    this.size = segments.reduce((sum, segment) => sum + segment.length, 0);
  }

  /** Bytes of fingerprints held. */
  get bytes(): number {
    return this.size * 8;
  }

  has(id: string): boolean {
    fingerprintHalves(id, probe);
    const high = probe[1] as number;
    const low = probe[0] as number;
    const segment = this.#segments[this.#bits === 0 ? 0 : high >>> (32 - this.#bits)];
    return segment !== undefined && searchHalves(segment, high, low);
  }
}

const probe = new Uint32Array(2);

/** Binary search of (high, low) in sorted u64 values seen as little-endian u32 pairs. */
function searchHalves(a: Uint32Array, high: number, low: number): boolean {
  let lo = 0;
  let hi = (a.length >>> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const h = a[2 * mid + 1] as number;
    const l = a[2 * mid] as number;
    if (h === high && l === low) return true;
    if (h < high || (h === high && l < low)) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Sorts `values` in place and drops duplicates (a copy only when there were some). */
export function sortUnique(values: BigUint64Array): BigUint64Array {
  values.sort();
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    if (i === 0 || values[i] !== values[n - 1]) values[n++] = values[i] as bigint;
  }
  return n === values.length ? values : values.slice(0, n);
}

/** The segment bits for a set of `size` fingerprints (REVOCATION_SEGMENT_TARGET_ENTRIES per segment). */
export function segmentBits(size: number): number {
  let bits = 0;
  while (bits < REVOCATION_MAX_SEGMENT_BITS && size / 2 ** bits > REVOCATION_SEGMENT_TARGET_ENTRIES) bits++;
  return bits;
}

/** First index whose value is ≥ `value`. */
function lowerBound(a: BigUint64Array, value: bigint): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as bigint) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function search(a: BigUint64Array, value: bigint): boolean {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const probe = a[mid] as bigint;
    if (probe === value) return true;
    if (probe < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
