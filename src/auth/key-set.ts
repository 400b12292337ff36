/**
 * A set of public JWKs (from a JWKS or the config) and the CryptoKeys imported from them,
 * each imported once per kid and algorithm, on first use.
 */
import { importJWK } from "jose";

/** What a token's protected header asks for. */
export interface KeyRequest {
  readonly alg: string;
  readonly kid: string | undefined;
}

export type KeyLookup =
  | { readonly kind: "key"; readonly key: CryptoKey }
  /** No key with this kid (or, without kid, not exactly one key for the algorithm). */
  | { readonly kind: "unknown-kid" }
  /** A key with this kid exists but is of another type than the algorithm needs. */
  | { readonly kind: "key-mismatch" }
  | { readonly kind: "unavailable"; readonly detail: string };

interface Entry {
  readonly jwk: JsonWebKey & { kid?: string; use?: string };
  /** The JWK's key material, to carry imports over when a refreshed set keeps the key. */
  readonly material: string;
  /** Resolved keys only: promises are not shared across requests (a Workers I/O rule). */
  readonly imported: Map<string, CryptoKey>;
}

/** `kty` / `crv` each JWS algorithm needs (RFC 7518 §3.1, RFC 8037 §3.1). */
function fits(jwk: JsonWebKey, alg: string): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg && !(isEdDSA(jwk.alg) && isEdDSA(alg))) return false;
  if (alg.startsWith("RS") || alg.startsWith("PS")) return jwk.kty === "RSA";
  if (alg === "ES256") return jwk.kty === "EC" && jwk.crv === "P-256";
  if (alg === "ES384") return jwk.kty === "EC" && jwk.crv === "P-384";
  if (alg === "ES512") return jwk.kty === "EC" && jwk.crv === "P-521";
  if (isEdDSA(alg)) return jwk.kty === "OKP" && jwk.crv === "Ed25519";
  return false;
}

function isEdDSA(alg: string): boolean {
  return alg === "EdDSA" || alg === "Ed25519";
}

/** Only verification keys (RFC 7517 §4.2, §4.3). */
function usableForVerify(jwk: JsonWebKey & { use?: string }): boolean {
  if (jwk.use !== undefined && jwk.use !== "sig") return false;
  return jwk.key_ops === undefined || jwk.key_ops.includes("verify");
}

export class KeySet {
  readonly #entries: Entry[];
  readonly #byKid = new Map<string, Entry>();
  /** Identifies the keys (kid and material, order-insensitive): equal digests, same keys. */
  readonly digest: string;

  /** `previous`: a set this one replaces; imports of unchanged keys are reused. */
  constructor(jwks: readonly JsonWebKey[], previous: KeySet | null = null) {
    this.#entries = jwks.filter(usableForVerify).map((jwk) => {
      const material = JSON.stringify([jwk.kty, jwk.crv, jwk.n, jwk.e, jwk.x, jwk.y, jwk.alg]);
      const kid = (jwk as { kid?: unknown }).kid;
      const old = typeof kid === "string" && previous ? previous.#byKid.get(kid) : undefined;
      return { jwk, material, imported: old && old.material === material ? old.imported : new Map() };
    });
    for (const entry of this.#entries) {
      const kid = entry.jwk.kid;
      if (typeof kid === "string" && !this.#byKid.has(kid)) this.#byKid.set(kid, entry);
    }
    this.digest = JSON.stringify(this.#entries.map((e) => JSON.stringify([e.jwk.kid ?? null, e.material])).sort());
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The key for a header: by kid, or without kid the only key that fits the algorithm. */
  async find(request: KeyRequest): Promise<KeyLookup> {
    let entry: Entry | undefined;
    if (request.kid !== undefined) {
      entry = this.#byKid.get(request.kid);
      if (!entry) return { kind: "unknown-kid" };
      if (!fits(entry.jwk, request.alg)) return { kind: "key-mismatch" };
    } else {
      const candidates = this.#entries.filter((e) => fits(e.jwk, request.alg));
      if (candidates.length !== 1) return { kind: "unknown-kid" };
      entry = candidates[0];
    }
    if (!entry) return { kind: "unknown-kid" };
    const cached = entry.imported.get(request.alg);
    if (cached) return { kind: "key", key: cached };
    try {
      // Two first requests may both import; harmless, and then it is cached for good.
      const key = (await importJWK(entry.jwk, request.alg)) as CryptoKey;
      entry.imported.set(request.alg, key);
      return { kind: "key", key };
    } catch {
      return { kind: "key-mismatch" };
    }
  }
}
