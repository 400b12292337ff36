/**
 * Pure JWT claim checks (RFC 7519 §4.1), `now` passed in, so they are table-tested without a
 * clock or keys. Signature and header checks are in `verify.ts`.
 */

/** A verified claims set: a JSON object with a numeric `exp`. */
export type Claims = Readonly<Record<string, unknown>> & { readonly exp: number };

export type ClaimFailure =
  | "claims-not-object"
  | "missing-exp"
  | "bad-time-claim"
  | "expired"
  | "not-yet-valid"
  | "issued-in-future"
  | "wrong-issuer"
  | "wrong-audience"
  /** `maxTokenLifetimeSeconds` is set and the token has no `iat` to measure it from. */
  | "missing-iat"
  /** `exp - iat` is beyond `maxTokenLifetimeSeconds`. */
  | "lifetime-too-long";

export interface ClaimPolicy {
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly clockSkewSeconds: number;
  /** Longest accepted `exp - iat`; null for no limit. */
  readonly maxLifetimeSeconds: number | null;
}

export type ClaimCheck = { readonly ok: true; readonly claims: Claims } | { readonly ok: false; readonly reason: ClaimFailure };

/**
 * Checks a decoded payload. `exp` is required (a token that never expires cannot be
 * bounded by the token cache either); `nbf` and `iat` are checked when present (`iat` is
 * required with `maxLifetimeSeconds`); skew tolerates clock differences with the issuer in
 * both directions.
 */
export function checkClaims(payload: unknown, policy: ClaimPolicy, nowSeconds: number): ClaimCheck {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return fail("claims-not-object");
  const claims = payload as Record<string, unknown>;
  const skew = policy.clockSkewSeconds;
  if (claims.exp === undefined) return fail("missing-exp");
  for (const name of ["exp", "nbf", "iat"]) {
    const value = claims[name];
    if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value))) return fail("bad-time-claim");
  }
  // RFC 7519 §4.1.4: the token must not be accepted on or after exp.
  if ((claims.exp as number) <= nowSeconds - skew) return fail("expired");
  if (typeof claims.nbf === "number" && claims.nbf > nowSeconds + skew) return fail("not-yet-valid");
  if (typeof claims.iat === "number" && claims.iat > nowSeconds + skew) return fail("issued-in-future");
  // A long-lived token is a long-lived risk (RFC 8725 §3.10 leaves the bound to the
  // application): with a limit, the lifetime must be measurable, and within it. Since iat is
  // not in the future, exp is then at most now + skew + the limit.
  if (policy.maxLifetimeSeconds !== null) {
    if (typeof claims.iat !== "number") return fail("missing-iat");
    if ((claims.exp as number) - claims.iat > policy.maxLifetimeSeconds) return fail("lifetime-too-long");
  }
  if (claims.iss !== policy.issuer) return fail("wrong-issuer");
  // RFC 7519 §4.1.3: aud is a string or an array of strings; one of ours must be in it.
  const aud = claims.aud;
  const auds = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
  if (!auds.some((a) => typeof a === "string" && policy.audience.includes(a))) return fail("wrong-audience");
  return { ok: true, claims: claims as Claims };
}

/**
 * Whether the token carries every scope: the `scope` claim (space-separated, RFC 8693 §4.2,
 * RFC 9068 §2.2.3) or an `scp` array (a common variant).
 */
export function hasScopes(claims: Claims, required: readonly string[]): boolean {
  if (required.length === 0) return true;
  const granted = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === "string") for (const s of value.split(" ")) if (s) granted.add(s);
  };
  add(claims.scope);
  if (Array.isArray(claims.scp)) claims.scp.forEach(add);
  else add(claims.scp);
  return required.every((s) => granted.has(s));
}

function fail(reason: ClaimFailure): ClaimCheck {
  return { ok: false, reason };
}
