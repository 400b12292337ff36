/**
 * A compact set of revoked token ids: 64-bit fingerprints in one sorted `BigUint64Array`
 * (8 bytes per id, so 10^6 ids are 8 MB), looked up by binary search (~20 probes). Sorted
 * rather than hashed because the same buffer is built once by the Durable Object and handed
 * to every isolate as is: nothing is rebuilt per isolate, and there are no empty slots.
 */
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
    values.sort();
    let n = 0;
    for (let i = 0; i < values.length; i++) {
      if (i === 0 || values[i] !== values[n - 1]) values[n++] = values[i] as bigint;
    }
    return new FingerprintSet(n === values.length ? values : values.slice(0, n));
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
    const a = this.fingerprints;
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

  /** A new set holding this set's fingerprints and `ids`'. */
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
