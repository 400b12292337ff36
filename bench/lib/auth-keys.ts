/**
 * The ES256 key pair of the bench's auth tenant, made once per bench run: the public JWK goes
 * into Brim's tenants file (`auth.keys`), the private key signs the tokens the auth scenario sends.
 */
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

export const BENCH_ISSUER = "https://idp.bench.test";
export const BENCH_AUDIENCE = "bench-api";
const KID = "bench-es256";
const ALG = "ES256";
const TOKEN_LIFETIME_S = 3_600;

export interface BenchKeys {
  readonly publicJwk: JWK;
  /** A signed token for `sub`, with a unique jti, valid for an hour. */
  sign(sub: string): Promise<string>;
}

let keys: Promise<BenchKeys> | null = null;

export function benchKeys(): Promise<BenchKeys> {
  keys ??= (async (): Promise<BenchKeys> => {
    const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid: KID, alg: ALG, use: "sig" };
    let serial = 0;
    return {
      publicJwk,
      sign: (sub) =>
        new SignJWT({ scope: "read" })
          .setProtectedHeader({ alg: ALG, kid: KID, typ: "JWT" })
          .setIssuer(BENCH_ISSUER)
          .setAudience(BENCH_AUDIENCE)
          .setSubject(sub)
          .setJti(`${Date.now().toString(36)}-${++serial}`)
          .setIssuedAt()
          .setExpirationTime(`${TOKEN_LIFETIME_S}s`)
          .sign(privateKey),
    };
  })();
  return keys as Promise<BenchKeys>;
}
