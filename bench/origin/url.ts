/**
 * The bench origin's URL scheme, shared by the origin and the scenarios:
 *
 *   /b/<profile>/<latencyMs>/<bytes>/<key...>
 *
 * `profile` picks the Cache-Control the origin sends; `key` only makes the URL unique (a fresh
 * cache key per scenario, round and target). Control endpoints live under /_control/.
 */

/** Cache-Control per profile. */
export const CACHE_PROFILES = {
  /** A plain cacheable response. */
  fresh: "public, max-age=60",
  /** Stale after 1 s, then served stale for 30 s while one request revalidates (RFC 5861). */
  swr: "max-age=1, stale-while-revalidate=30",
  nostore: "no-store",
} as const;
export type CacheProfile = keyof typeof CACHE_PROFILES;

export const CONTROL_PREFIX = "/_control/";
const MAX_LATENCY_MS = 60_000;
const MAX_BYTES = 16 * 1024 * 1024;

export interface OriginPathParts {
  profile: CacheProfile;
  latencyMs: number;
  bytes: number;
  key: string;
}

export function originPath({ profile, latencyMs, bytes, key }: OriginPathParts): string {
  return `/b/${profile}/${latencyMs}/${bytes}/${key}`;
}

const PATH = /^\/b\/([a-z]+)\/(\d+)\/(\d+)\/(.+)$/;

export function parseOriginPath(pathname: string): OriginPathParts | null {
  const match = PATH.exec(pathname);
  if (!match) return null;
  const [, profile = "", latency = "", bytes = "", key = ""] = match;
  if (!(profile in CACHE_PROFILES)) return null;
  const latencyMs = Number(latency);
  const size = Number(bytes);
  if (latencyMs > MAX_LATENCY_MS || size > MAX_BYTES) return null;
  return { profile: profile as CacheProfile, latencyMs, bytes: size, key };
}
