/**
 * The revocation list format and the pure check against it.
 *
 * Published by each tenant at `revocation.url` as JSON (the full feed schema, with `iss`
 * and `allowShrink`, is checked in `feed.ts`):
 *
 *     { "iss": "https://idp.example", "jti": ["id-1", "id-2"], "sub": { "alice": 1763900000 } }
 *
 * `jti`: revoked token ids. `sub`: every token of that subject issued before that Unix time
 * (seconds) is revoked (the token's `iat` is compared; a token without `iat` is revoked).
 * Both members are optional. Served with an `ETag`, an unchanged list costs a `304`.
 */
import type { Claims } from "../claims";
import type { SegmentedSet } from "./set";

/** What one list says, before fingerprinting. */
export interface RevocationEntries {
  readonly jti: readonly string[];
  readonly sub: Readonly<Record<string, number>>;
}

/** The list as isolates hold it. */
export interface RevocationSnapshot {
  /** Changes whenever the content changes; isolates send it back to skip unchanged lists. */
  readonly version: string;
  /** When the list was last confirmed with the publisher (fetch or 304), epoch ms; null if never (pushes only). */
  readonly fetchedAt: number | null;
  readonly jti: SegmentedSet;
  readonly sub: ReadonlyMap<string, number>;
}

export type RevokedReason = "revoked-jti" | "revoked-sub";

/** What `revokedReason` needs: a jti set (a `FingerprintSet` or a plain `Set`) and subject cut-offs. */
export interface RevocationLookup {
  readonly jti: { has(id: string): boolean };
  readonly sub: ReadonlyMap<string, number>;
}

/** Why the token is revoked, or null. Pure; O(log n) for the jti, O(1) for the subject. */
export function revokedReason(snapshot: RevocationLookup, claims: Claims): RevokedReason | null {
  if (typeof claims.jti === "string" && snapshot.jti.has(claims.jti)) return "revoked-jti";
  if (typeof claims.sub === "string") {
    const before = snapshot.sub.get(claims.sub);
    if (before !== undefined && !(typeof claims.iat === "number" && claims.iat >= before)) return "revoked-sub";
  }
  return null;
}

/**
 * Validates a list's entries (a pushed body, or the entries of a published feed, see
 * `feed.ts`). Members other than `jti` and `sub` are refused. Throws `TypeError` naming the
 * first problem; the caller keeps its last good list.
 */
export function parseEntries(value: unknown): RevocationEntries {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TypeError("expected a JSON object");
  const extra = Object.keys(value).find((name) => name !== "jti" && name !== "sub");
  if (extra !== undefined) throw new TypeError(`unknown member ${JSON.stringify(extra.slice(0, 64))}`);
  const { jti = [], sub = {} } = value as { jti?: unknown; sub?: unknown };
  if (!Array.isArray(jti) || !jti.every((id) => typeof id === "string")) throw new TypeError('"jti" must be a list of strings');
  if (typeof sub !== "object" || sub === null || Array.isArray(sub)) throw new TypeError('"sub" must be an object');
  for (const [name, at] of Object.entries(sub)) {
    if (typeof at !== "number" || !Number.isFinite(at)) throw new TypeError(`"sub.${name}" must be a Unix time in seconds`);
  }
  return { jti: jti as string[], sub: sub as Record<string, number> };
}

/** Merges subject cut-offs, keeping the later time for a subject in both. */
export function mergeSubjects(
  into: Map<string, number>,
  from: Readonly<Record<string, number>> | ReadonlyMap<string, number>,
): Map<string, number> {
  const entries = from instanceof Map ? from.entries() : Object.entries(from);
  for (const [name, at] of entries) into.set(name, Math.max(at, into.get(name) ?? Number.NEGATIVE_INFINITY));
  return into;
}
