/**
 * Key sources behind one interface: inline public keys, an HMAC secret from a Worker secret,
 * and (in `jwks.ts`) a remote JWKS. Which one a tenant uses is fixed at load.
 */
import { HMAC_MIN_SECRET_BYTES, TOKEN_CACHE_MAX_AGE_SECONDS } from "../constants";
import type { KeySource } from "../tenant/types";
import { KeySet, type KeyLookup, type KeyRequest } from "./key-set";
import { RemoteJwks, type FetchJson } from "./jwks";

/** Per-request collaborators of a key lookup. */
export interface KeyContext {
  /** Epoch ms. */
  readonly now: number;
  readonly waitUntil: (promise: Promise<unknown>) => void;
  readonly log: (event: Record<string, unknown>) => void;
  /** The Worker's bindings, for secrets. */
  readonly env: Readonly<Record<string, unknown>>;
}

export interface KeyStore {
  resolve(request: KeyRequest, ctx: KeyContext): Promise<KeyLookup>;
  /**
   * Brings the keys up to date for this request (a JWKS past its max age is refetched first,
   * with a bounded wait) and returns their generation, which changes whenever the keys do.
   * A verified token is reused only under the generation that verified it.
   */
  generation(ctx: KeyContext): Promise<number>;
  /** Longest a verified token may be reused without verifying it again. */
  readonly maxReuseSeconds: number;
}

/** Options of `createKeyStore`. */
export interface KeyStoreOptions {
  readonly tenantId: string;
  /** How the JWKS is fetched; default the runtime's `fetch`. */
  readonly fetchJson?: FetchJson;
}

/**
 * The key store for a tenant's key source: `static` imports each configured key once,
 * `secret` imports the HMAC secret once per value (refusing one shorter than the hash), `jwks` is a `RemoteJwks` (cached per
 * isolate, refreshed in the background, unknown kids refetched at most once per cooldown).
 */
export function createKeyStore(source: KeySource, options: KeyStoreOptions): KeyStore {
  switch (source.kind) {
    case "static": {
      // Inline keys change only with the config, which builds a new runtime.
      const set = new KeySet(source.keys);
      return { resolve: (request) => set.find(request), generation: async () => 0, maxReuseSeconds: TOKEN_CACHE_MAX_AGE_SECONDS };
    }
    case "secret":
      return new SecretKey(source.env, options.tenantId);
    case "jwks":
      return new RemoteJwks({ ...source, tenantId: options.tenantId, ...(options.fetchJson ? { fetchJson: options.fetchJson } : {}) });
  }
}

const HASH_OF: Readonly<Record<keyof typeof HMAC_MIN_SECRET_BYTES, string>> = { HS256: "SHA-256", HS384: "SHA-384", HS512: "SHA-512" };
const encoder = new TextEncoder();

function isHmac(alg: string): alg is keyof typeof HASH_OF {
  return Object.hasOwn(HASH_OF, alg);
}

/**
 * An HMAC key from a Worker secret (its UTF-8 bytes); imported once per secret value and
 * algorithm. A secret shorter than the algorithm's hash output is refused when it is first
 * imported (RFC 7518 §3.2): every token for that algorithm gets `keys-unavailable` (503) and
 * one `hmac-secret-too-short` log line names the secret; it is never used.
 */
class SecretKey implements KeyStore {
  readonly maxReuseSeconds = TOKEN_CACHE_MAX_AGE_SECONDS;
  readonly #env: string;
  readonly #tenantId: string;
  #imported: { secret: string; keys: Map<string, CryptoKey | { readonly refused: string }> } | null = null;
  /** Bumped whenever the secret's value changes (a rotated secret). */
  #generation = 0;
  #seen: unknown = undefined;

  constructor(env: string, tenantId: string) {
    this.#env = env;
    this.#tenantId = tenantId;
  }

  async generation(ctx: KeyContext): Promise<number> {
    const secret = ctx.env[this.#env];
    if (secret !== this.#seen) {
      this.#seen = secret;
      this.#generation++;
    }
    return this.#generation;
  }

  async resolve(request: KeyRequest, ctx: KeyContext): Promise<KeyLookup> {
    const secret = ctx.env[this.#env];
    if (typeof secret !== "string" || secret === "") return { kind: "unavailable", detail: `Worker secret ${this.#env} is not set` };
    const alg = request.alg;
    if (!isHmac(alg)) return { kind: "key-mismatch" };
    if (this.#imported?.secret !== secret) this.#imported = { secret, keys: new Map() };
    const keys = this.#imported.keys;
    let key = keys.get(alg);
    if (!key) {
      const bytes = encoder.encode(secret);
      const minimum = HMAC_MIN_SECRET_BYTES[alg];
      if (bytes.byteLength < minimum) {
        key = { refused: `Worker secret ${this.#env} is ${bytes.byteLength} bytes; ${alg} needs at least ${minimum} (RFC 7518 §3.2)` };
        ctx.log({
          event: "hmac-secret-too-short",
          tenant: this.#tenantId,
          secret: this.#env,
          alg,
          bytes: bytes.byteLength,
          minimumBytes: minimum,
        });
      } else {
        key = await crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: HASH_OF[alg] }, false, ["verify"]);
      }
      keys.set(alg, key);
    }
    return "refused" in key ? { kind: "unavailable", detail: key.refused } : { kind: "key", key };
  }
}
