/**
 * Every tunable of a bench run, per mode. `full` is what BENCHMARKS.md is generated from
 * (≤ ~10 minutes); `quick` is ~1 minute; `smoke` (npm test) is seconds, Brim only, no installs.
 */
export type Mode = "smoke" | "quick" | "full";

export interface Settings {
  readonly mode: Mode;
  readonly rounds: number;
  /** Response body size for every scenario. */
  readonly bodyBytes: number;
  readonly stampede: { readonly connections: number; readonly latencyMs: number };
  readonly slowOrigin: { readonly connections: number; readonly latencyMs: number };
  readonly hotHits: { readonly connections: number; readonly durationMs: number; readonly warmupMs: number };
  /** The origin is slow enough (1 s) that a response that waited for it stands out from queueing in a slow proxy. */
  readonly swr: { readonly connections: number; readonly latencyMs: number; readonly staleAfterMs: number };
  readonly manyKeys: { readonly keys: number; readonly connections: number; readonly durationMs: number; readonly latencyMs: number };
  /** ~100 KB JSON and HTML bodies; `misses` fresh keys per coding for the first-miss time; a load run per hit kind for CPU. */
  readonly compression: { readonly bodyBytes: number; readonly misses: number; readonly connections: number; readonly durationMs: number };
  /**
   * Each of the three runs lasts `durationMs` in all, split into `slices` interleaved in rotating order (drift hits
   * all three alike); `tokens` pre-signed tokens for the fresh-token run, a disjoint share per slice.
   */
  readonly auth: {
    readonly connections: number;
    readonly durationMs: number;
    readonly slices: number;
    readonly warmupMs: number;
    readonly tokens: number;
  };
  /**
   * Two edges (two-edge scenario, `brim-mf` only): `keys` uncached URLs, each burst with `connections`
   * requests split evenly over both edges, first cold (misses) then again (hits).
   */
  readonly twoEdge: { readonly keys: number; readonly connections: number; readonly latencyMs: number };
  /** Revoked ids in the set, and lookups of each kind (hits, misses). */
  readonly revocation: { readonly entries: number; readonly lookups: number };
  /** URLs cached then purged in one request, tags in one tag purge (`tagged` cached entries carry some), checks per purge. */
  readonly purge: { readonly urls: number; readonly tags: number; readonly tagged: number; readonly checks: number };
}

const FULL: Settings = {
  mode: "full",
  rounds: 3,
  bodyBytes: 1024,
  stampede: { connections: 200, latencyMs: 200 },
  slowOrigin: { connections: 50, latencyMs: 6_000 },
  hotHits: { connections: 50, durationMs: 10_000, warmupMs: 1_000 },
  swr: { connections: 100, latencyMs: 1_000, staleAfterMs: 2_000 },
  manyKeys: { keys: 1_000, connections: 50, durationMs: 6_000, latencyMs: 20 },
  compression: { bodyBytes: 100_000, misses: 7, connections: 20, durationMs: 5_000 },
  auth: { connections: 50, durationMs: 6_000, slices: 3, warmupMs: 1_000, tokens: 12_000 },
  revocation: { entries: 1_000_000, lookups: 1_000_000 },
  twoEdge: { keys: 20, connections: 20, latencyMs: 100 },
  purge: { urls: 1_000, tags: 10_000, tagged: 20, checks: 50 },
};

const QUICK: Settings = {
  ...FULL,
  mode: "quick",
  rounds: 1,
  slowOrigin: { connections: 50, latencyMs: 2_000 },
  hotHits: { connections: 50, durationMs: 3_000, warmupMs: 0 },
  manyKeys: { ...FULL.manyKeys, durationMs: 3_000 },
  compression: { ...FULL.compression, misses: 5, durationMs: 3_000 },
  auth: { ...FULL.auth, durationMs: 3_000, warmupMs: 0 },
  twoEdge: { ...FULL.twoEdge, keys: 5 },
};

const SMOKE: Settings = {
  ...FULL,
  mode: "smoke",
  rounds: 1,
  stampede: { connections: 20, latencyMs: 200 },
  slowOrigin: { connections: 5, latencyMs: 1_000 },
  hotHits: { connections: 5, durationMs: 1_000, warmupMs: 0 },
  swr: { connections: 10, latencyMs: 1_000, staleAfterMs: 2_000 },
  manyKeys: { keys: 50, connections: 5, durationMs: 1_000, latencyMs: 20 },
  compression: { bodyBytes: 100_000, misses: 2, connections: 5, durationMs: 1_000 },
  auth: { connections: 5, durationMs: 1_000, slices: 1, warmupMs: 0, tokens: 100 },
  // 10^5, not 10^4: ~0.4 MB of fixed heap (the parser's compiled code, GC noise) would be 40 B/entry at 10^4.
  revocation: { entries: 100_000, lookups: 10_000 },
  twoEdge: { keys: 2, connections: 4, latencyMs: 100 },
  purge: { urls: 100, tags: 10_000, tagged: 5, checks: 10 },
};

export const SETTINGS: Readonly<Record<Mode, Settings>> = { smoke: SMOKE, quick: QUICK, full: FULL };
