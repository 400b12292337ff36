/**
 * 10^6 revoked jti: memory and lookup time of the compact representation, measured in
 * workerd. The numbers are printed for the README; the assertions are generous bounds.
 */
import { describe, expect, it } from "vitest";
import { revokedReason } from "../../src/auth/revocation/list";
import { FingerprintSet } from "../../src/auth/revocation/set";
import type { Claims } from "../../src/auth/claims";

const N = 1_000_000;

describe("a million revoked token ids", () => {
  it("fit in 8 MB and are looked up in about a microsecond", () => {
    const ids = Array.from({ length: N }, (_, i) => `jti-${i.toString(36)}-${(i * 2654435761) % 1_000_003}`);
    let started = performance.now();
    const set = FingerprintSet.fromIds(ids);
    const buildMs = performance.now() - started;
    expect(set.size).toBe(N);
    expect(set.fingerprints.byteLength).toBe(8 * N);

    const probes = 200_000;
    const misses = Array.from({ length: probes }, (_, i) => `absent-${i}`);
    started = performance.now();
    let found = 0;
    for (let i = 0; i < probes; i++) {
      if (set.has(ids[(i * 7919) % N]!)) found++;
      if (set.has(misses[i]!)) found += 1_000_000;
    }
    const lookupNs = ((performance.now() - started) * 1e6) / (2 * probes);
    expect(found).toBe(probes);

    // The whole per-request check, through the same function the middleware uses.
    const list = { jti: set, sub: new Map<string, number>() };
    const claims = { exp: 1, jti: ids[12345], sub: "alice", iat: 1 } as Claims;
    expect(revokedReason(list, claims)).toBe("revoked-jti");

    console.log(JSON.stringify({ bench: "revocation-set", entries: N, bytes: set.fingerprints.byteLength, buildMs: Math.round(buildMs), lookupNs: Math.round(lookupNs) }));
    // workerd's timers are coarse; these bounds only catch a pathological regression.
    expect(lookupNs).toBeLessThan(20_000);
  });
});
