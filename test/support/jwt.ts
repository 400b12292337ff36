/**
 * Test helpers for auth: signing keys made with jose, tokens (well-formed and deliberately
 * broken), a JWKS and revocation "server" (scripted JSON bodies on the scriptable origin,
 * with ETags so unchanged documents get 304s). Brim itself is built by `testBrim`
 * (test/support/brim.ts), with tenants that carry `auth` / `admin` blocks. Runs inside workerd:
 * fetch and WebCrypto only.
 */
import { env } from "cloudflare:workers";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { ADMIN_TOKEN_ENV } from "./brim";
import { originUrl, script, uniquePath } from "./origin";
import type { FeedSpec } from "./origin-server";

/** The HMAC secret and admin token vitest.config.ts binds as Worker secrets. */
export const JWT_SECRET_ENV = "TEST_JWT_SECRET";
export { ADMIN_TOKEN_ENV };
export const ADMIN_TOKEN = (env as unknown as Record<string, string>)[ADMIN_TOKEN_ENV] ?? "";
export const ISSUER = "https://idp.test";
export const AUDIENCE = "brim-api";

export type Alg = "RS256" | "ES256" | "EdDSA";

export interface SigningKey {
  readonly alg: Alg | "HS256";
  readonly kid: string;
  readonly privateKey: CryptoKey;
  /** The public JWK (with kid, alg, use) as a JWKS would publish it; null for HMAC. */
  readonly jwk: JsonWebKey | null;
  readonly publicKey: CryptoKey | null;
}

/** A fresh key pair for `alg`, with a random kid. */
export async function signingKey(alg: Alg, kid = `k-${crypto.randomUUID().slice(0, 8)}`): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } as JsonWebKey;
  return { alg, kid, privateKey, publicKey, jwk };
}

/** The HMAC key bound as `TEST_JWT_SECRET`. */
export async function hmacKey(): Promise<SigningKey> {
  const secret = (env as unknown as Record<string, string>)[JWT_SECRET_ENV] ?? "";
  const privateKey = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return { alg: "HS256", kid: "hmac", privateKey, publicKey: null, jwk: null };
}

/** Claims that pass: right iss and aud, issued now, valid for an hour (by `nowMs`). */
export function goodClaims(nowMs: number, extra: JWTPayload = {}): JWTPayload {
  const now = Math.floor(nowMs / 1000);
  return { iss: ISSUER, aud: AUDIENCE, sub: "alice", iat: now, exp: now + 3600, jti: crypto.randomUUID(), ...extra };
}

/** Signs `claims` with `key` through jose (header: alg, kid, typ JWT unless overridden). */
export async function sign(key: SigningKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...header }).sign(key.privateKey);
}

export function b64url(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

type SignAlgorithm = Parameters<typeof crypto.subtle.sign>[0];

const SUBTLE_SIGN = {
  RS256: { name: "RSASSA-PKCS1-v1_5" },
  ES256: { name: "ECDSA", hash: "SHA-256" },
  HS256: { name: "HMAC" },
} satisfies Record<string, SignAlgorithm>;

/**
 * Signs any header and payload with WebCrypto directly, bypassing jose's own checks, for
 * tokens jose would refuse to make (an unknown `crit`, alg confusion).
 */
export async function signRaw(
  header: Record<string, unknown>,
  payload: unknown,
  privateKey: CryptoKey,
  subtleAlg: keyof typeof SUBTLE_SIGN,
): Promise<string> {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = await crypto.subtle.sign(SUBTLE_SIGN[subtleAlg], privateKey, new TextEncoder().encode(input));
  return `${input}.${b64url(new Uint8Array(signature))}`;
}

/** The classic alg-confusion token: HS256 "signed" with the RSA public key as the HMAC secret. */
export async function hs256WithPublicKey(key: SigningKey, claims: JWTPayload): Promise<string> {
  if (!key.publicKey) throw new Error("needs a public key");
  const pem = await exportSPKI(key.publicKey);
  const secret = await crypto.subtle.importKey("raw", new TextEncoder().encode(pem), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return signRaw({ alg: "HS256", kid: key.kid, typ: "JWT" }, claims, secret, "HS256");
}

/** A JWKS document on the scriptable origin; `publish` again to rotate. */
export interface JwksServer {
  readonly url: string;
  readonly path: string;
  publish(keys: readonly SigningKey[]): Promise<void>;
  /** Makes every further fetch fail (connection reset). */
  down(): Promise<void>;
}

export async function jwksServer(keys: readonly SigningKey[]): Promise<JwksServer> {
  const path = uniquePath("/jwks");
  const server: JwksServer = {
    path,
    url: `${originUrl()}${path}`,
    async publish(next) {
      const body = JSON.stringify({ keys: next.map((k) => k.jwk).filter(Boolean) });
      await script(path, [{ headers: { "content-type": "application/json" }, body }]);
    },
    async down() {
      await script(path, [{ reset: true }]);
    },
  };
  await server.publish(keys);
  return server;
}

/** A revocation feed: `iss` defaults to ISSUER; anything else is sent as given (for malformed feeds). */
export type RevocationFeed = { jti?: unknown; sub?: unknown; iss?: unknown; allowShrink?: unknown } & Record<string, unknown>;

/** A revocation list on the scriptable origin, served with an ETag (so unchanged lists get 304). */
export interface RevocationServer {
  readonly url: string;
  readonly path: string;
  publish(list: RevocationFeed): Promise<void>;
  /** Serves `body` exactly as given (not JSON-encoded). */
  publishRaw(body: string): Promise<void>;
  /** Serves a generated feed (`FeedSpec`), streamed in chunks; `iss` defaults to the test issuer. */
  generate(feed: Omit<FeedSpec, "iss"> & { iss?: string }): Promise<void>;
  down(): Promise<void>;
}

/** The i-th id of a generated feed (`FeedSpec` in origin-server.ts, which mirrors this). */
export function feedId(i: number, prefix = "", idChars = 36): string {
  return prefix + i.toString(36).padStart(Math.max(0, idChars - prefix.length), "0");
}

export async function revocationServer(list: RevocationFeed = {}): Promise<RevocationServer> {
  const path = uniquePath("/revocations");
  let version = 0;
  const server: RevocationServer = {
    path,
    url: `${originUrl()}${path}`,
    async publish(next) {
      await server.publishRaw(JSON.stringify({ iss: ISSUER, ...next }));
    },
    async publishRaw(body) {
      version++;
      await script(path, [{ headers: { "content-type": "application/json", etag: `"v${version}"` }, body }]);
    },
    async generate(feed) {
      version++;
      await script(path, [{ headers: { etag: `"v${version}"` }, feed: { iss: ISSUER, ...feed } }]);
    },
    async down() {
      await script(path, [{ reset: true }]);
    },
  };
  await server.publish(list);
  return server;
}

/** Tenant `auth` block for `keys`: a JWKS URL, inline keys, or the HMAC secret. */
export function authBlock(
  source: { jwksUrl: string } | { keys: JsonWebKey[] } | { secretEnv: string },
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { issuer: ISSUER, audience: [AUDIENCE], ...source, ...extra };
}
