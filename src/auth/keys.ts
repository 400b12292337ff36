/**
 * Key sources behind one interface: inline public keys, an HMAC secret from a Worker secret,
 * and (in `jwks.ts`) a remote JWKS. Which one a tenant uses is fixed at load.
 */
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
}

/** Options of `createKeyStore`. */
export interface KeyStoreOptions {
  readonly tenantId: string;
  /** How the JWKS is fetched; default the runtime's `fetch`. */
  readonly fetchJson?: FetchJson;
}

/**
 * The key store for a tenant's key source: `static` imports each configured key once,
 * `secret` imports the HMAC secret once per value, `jwks` is a `RemoteJwks` (cached per
 * isolate, refreshed in the background, unknown kids refetched at most once per cooldown).
 */
export function createKeyStore(source: KeySource, options: KeyStoreOptions): KeyStore {
  switch (source.kind) {
    case "static": {
      const set = new KeySet(source.keys);
      return { resolve: (request) => set.find(request) };
    }
    case "secret":
      return new SecretKey(source.env);
    case "jwks":
      return new RemoteJwks({ ...source, tenantId: options.tenantId, ...(options.fetchJson ? { fetchJson: options.fetchJson } : {}) });
  }
}

const HASH_OF: Readonly<Record<string, string>> = { HS256: "SHA-256", HS384: "SHA-384", HS512: "SHA-512" };
const encoder = new TextEncoder();

/** An HMAC key from a Worker secret (its UTF-8 bytes); re-imported only when the secret changes. */
class SecretKey implements KeyStore {
  readonly #env: string;
  #imported: { secret: string; keys: Map<string, CryptoKey> } | null = null;

  constructor(env: string) {
    this.#env = env;
  }

  async resolve(request: KeyRequest, ctx: KeyContext): Promise<KeyLookup> {
    const secret = ctx.env[this.#env];
    if (typeof secret !== "string" || secret === "") return { kind: "unavailable", detail: `Worker secret ${this.#env} is not set` };
    const hash = HASH_OF[request.alg];
    if (!hash) return { kind: "key-mismatch" };
    if (this.#imported?.secret !== secret) this.#imported = { secret, keys: new Map() };
    const keys = this.#imported.keys;
    let key = keys.get(request.alg);
    if (!key) {
      key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash }, false, ["verify"]);
      keys.set(request.alg, key);
    }
    return { kind: "key", key };
  }
}
