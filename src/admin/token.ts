/** The tenant admin token check (pure apart from hashing). */

const encoder = new TextEncoder();
const BEARER = /^bearer +(\S+) *$/i;

/**
 * Whether `authorization` is `Bearer <expected>`. Both sides are hashed to equal-length
 * digests and compared with `timingSafeEqual`, so neither the length nor a prefix of the
 * secret leaks through timing. An unset secret never matches.
 */
export async function adminTokenMatches(authorization: string | null, expected: unknown): Promise<boolean> {
  if (typeof expected !== "string" || expected === "") return false;
  const given = authorization === null ? null : BEARER.exec(authorization.trim())?.[1];
  const [a, b] = await Promise.all([digest(given ?? ""), digest(expected)]);
  return crypto.subtle.timingSafeEqual(a, b) && given !== undefined && given !== null;
}

function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}
