/**
 * A compact set of revoked token ids: 64-bit fingerprints in one sorted `BigUint64Array`
 * (8 bytes per id, so 10^6 ids are 8 MB), looked up by binary search (~20 probes). Sorted
 * rather than hashed because the same buffer is built once by the Durable Object and handed
 * to every isolate as is: nothing is rebuilt per isolate, and there are no empty slots.
 */
import { REVOCATION_MAX_SEGMENT_BITS, REVOCATION_SEGMENT_TARGET_ENTRIES } from "../../constants";
import { fingerprint64 } from "../hash";

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
  readonly #shift: bigint;
  readonly #bits: number;
  readonly #segments: readonly BigUint64Array[];
  readonly size: number;

  static readonly EMPTY = new SegmentedSet(0, [new BigUint64Array(0)]);

  constructor(bits: number, segments: readonly BigUint64Array[]) {
    if (segments.length !== 2 ** bits) throw new RangeError(`${segments.length} segments for ${bits} bits`);
    this.#bits = bits;
    this.#shift = BigInt(64 - bits);
    this.#segments = segments;
    this.size = segments.reduce((sum, segment) => sum + segment.length, 0);
  }

  /** Bytes of fingerprints held. */
  get bytes(): number {
    return this.size * 8;
  }

  has(id: string): boolean {
    const value = fingerprint64(id);
    const segment = this.#bits === 0 ? this.#segments[0] : this.#segments[Number(value >> this.#shift)];
    return segment !== undefined && search(segment, value);
  }
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
