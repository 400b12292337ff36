/** Hashes for the auth path: the token cache key, and the 64-bit jti fingerprints. */

const encoder = new TextEncoder();

/**
 * SHA-256 of a token, base64url: the only form in which a token is ever kept (token cache
 * keys). Never logged.
 */
export async function tokenHash(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(token)));
  let binary = "";
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * A 64-bit fingerprint of a string (two independently mixed 32-bit lanes, cyrb53-style over
 * UTF-16 code units). Not cryptographic: at 10^6 revoked ids the chance that a given
 * unrevoked id collides with one is about 10^6 / 2^64 ≈ 5·10^-14, and a collision can only
 * deny a token, never admit one. Deterministic across isolates and the Durable Object, so
 * fingerprints computed in one place can be looked up in another.
 */
export function fingerprint64(text: string): bigint {
  fingerprintHalves(text, scratch);
  return (BigInt(scratch[1] as number) << 32n) | BigInt(scratch[0] as number);
}

const scratch = new Uint32Array(2);

/**
 * `fingerprint64` without a BigInt: `out[0]` the low 32 bits, `out[1]` the high (the layout of a
 * little-endian `BigUint64Array` seen as a `Uint32Array`). The hot path (one lookup per request)
 * allocates nothing.
 */
export function fingerprintHalves(text: string, out: Uint32Array): void {
  let h1 = 0xdeadbeef ^ text.length;
  let h2 = 0x41c6ce57 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  out[0] = h1 >>> 0;
  out[1] = h2 >>> 0;
}
