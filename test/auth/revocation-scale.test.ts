/**
 * 10^6 revoked jti: the compact representation holds them in 8 bytes each and answers
 * exactly, as one sorted set (the object) and cut into segments (what isolates hold, issue
 * #16). Timing belongs to the benchmark (`npm run bench`), not here.
 */
import { describe, expect, it } from "vitest";
import { revokedReason } from "../../src/auth/revocation/list";
import { FingerprintSet, SegmentedSet, segmentBits } from "../../src/auth/revocation/set";
import type { Claims } from "../../src/auth/claims";

const N = 1_000_000;

describe("a million revoked token ids", () => {
  it("fit in 8 MB and every lookup is exact", () => {
    const ids = Array.from({ length: N }, (_, i) => `jti-${i.toString(36)}-${(i * 2654435761) % 1_000_003}`);
    const set = FingerprintSet.fromIds(ids);
    expect(set.size).toBe(N);
    expect(set.fingerprints.byteLength).toBe(8 * N);

    const probes = 200_000;
    const misses = Array.from({ length: probes }, (_, i) => `absent-${i}`);
    let found = 0;
    for (let i = 0; i < probes; i++) {
      if (set.has(ids[(i * 7919) % N]!)) found++;
      if (set.has(misses[i]!)) found += 1_000_000;
    }
    expect(found).toBe(probes);

    // The isolate's form: the same fingerprints in 2^bits segments (views, no copy), same answers.
    const bits = segmentBits(N);
    const segmented = new SegmentedSet(bits, set.segments(bits));
    expect(segmented.size).toBe(N);
    expect(segmented.bytes).toBe(8 * N);
    let segmentedFound = 0;
    for (let i = 0; i < probes; i++) {
      if (segmented.has(ids[(i * 7919) % N]!)) segmentedFound++;
      if (segmented.has(misses[i]!)) segmentedFound += 1_000_000;
    }
    expect(segmentedFound).toBe(probes);

    // The whole per-request check, through the same function the middleware uses.
    const list = { jti: set, sub: new Map<string, number>() };
    const claims = { exp: 1, jti: ids[12345], sub: "alice", iat: 1 } as Claims;
    expect(revokedReason(list, claims)).toBe("revoked-jti");
    // Heavy (a million hashes): an explicit budget so a busy 2-core machine does not trip 5 s.
  }, 60_000);
});
