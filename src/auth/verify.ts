/**
 * Verifies one compact JWS JWT (RFC 7515 §7.1, RFC 7519 §7.2) with `jose`: size cap and
 * base64url shape first (cheap), then jose's header parsing, `crit` (RFC 7515 §4.1.11:
 * nothing beyond what jose understands), algorithm allow-list and signature with the tenant's
 * key source, then our own pure claim checks (`claims.ts`).
 */
import { compactVerify, errors } from "jose";
import type { TenantAuth } from "../tenant/types";
import { checkClaims, type Claims } from "./claims";
import type { AuthFailure } from "./failure";
import type { KeyContext, KeyStore } from "./keys";

export type VerifyResult =
  { readonly ok: true; readonly claims: Claims } | { readonly ok: false; readonly reason: AuthFailure; readonly detail?: string };

/** Three base64url segments (RFC 7515 §2: no padding); the signature must not be empty. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * `typ` values accepted when `auth.typ` pins none (normalized): a plain JWT (RFC 7519 §5.1)
 * and an OAuth access token (RFC 9068 §2.1). Any other `typ` says the token is another kind
 * of JWT that must never open an API: a Security Event Token (`secevent+jwt`, RFC 8417 §2.3),
 * a back-channel logout token (`logout+jwt`, OpenID Back-Channel Logout §2.4), a DPoP proof
 * (`dpop+jwt`, RFC 9449 §4.2), a JWT introspection response (`token-introspection+jwt`,
 * RFC 9701 §5), a request object (`oauth-authz-req+jwt`, RFC 9101 §10.8), an SD-JWT key
 * binding (`kb+jwt`), or a generic JWS (`JOSE`, RFC 7515 §9.1) whose payload is not a claims
 * set. RFC 8725 §3.11: explicit typing is how these are told apart. A token without `typ` is
 * accepted (most access tokens carry none).
 */
const DEFAULT_TYPS: ReadonlySet<string> = new Set(["application/jwt", "application/at+jwt"]);
/** A refused `typ` is quoted in the log detail, cut to this length. */
const MAX_LOGGED_TYP_CHARS = 100;

/** Thrown from jose's key callback to carry our own reason out. */
class KeyFailure extends Error {
  readonly reason: AuthFailure;
  constructor(reason: AuthFailure, detail: string) {
    super(detail);
    this.reason = reason;
  }
}

export type Verifier = (token: string, ctx: KeyContext) => Promise<VerifyResult>;

/**
 * Builds the verifier for a tenant's `auth`. The algorithm allow-list, typ and claim policy
 * are fixed here; each call costs a signature check (callers cache verified tokens).
 */
export function createVerifier(auth: TenantAuth, keys: KeyStore): Verifier {
  const options = { algorithms: [...auth.algorithms], crit: {} };
  const typ = auth.typ === null ? null : normalizeTyp(auth.typ);
  const policy = {
    issuer: auth.issuer,
    audience: auth.audience,
    clockSkewSeconds: auth.clockSkewSeconds,
    maxLifetimeSeconds: auth.maxTokenLifetimeSeconds,
  };

  return async function verify(token, ctx) {
    if (token.length > auth.maxTokenBytes) return { ok: false, reason: "oversize", detail: `${token.length} bytes` };
    if (!COMPACT_JWS.test(token)) return { ok: false, reason: "malformed", detail: "not three base64url segments" };
    let payload: Uint8Array;
    let header: { typ?: unknown; b64?: unknown };
    try {
      const result = await compactVerify(
        token,
        async (protectedHeader) => {
          const kid = typeof protectedHeader.kid === "string" ? protectedHeader.kid : undefined;
          const found = await keys.resolve({ alg: protectedHeader.alg ?? "", kid }, ctx);
          if (found.kind === "key") return found.key;
          if (found.kind === "unavailable") throw new KeyFailure("keys-unavailable", found.detail);
          throw new KeyFailure(found.kind, kid === undefined ? "no kid" : "kid not in key set");
        },
        options,
      );
      payload = result.payload;
      header = result.protectedHeader;
    } catch (error) {
      return { ok: false, ...classify(error) };
    }
    // RFC 7797 unencoded payloads are not JWTs (RFC 7519 §7.2 step 8 decodes the payload).
    if (header.b64 === false) return { ok: false, reason: "malformed", detail: "b64: false" };
    const typProblem = checkTyp(header.typ, typ);
    if (typProblem !== null) return { ok: false, reason: "wrong-typ", detail: typProblem };
    let decoded: unknown;
    try {
      decoded = JSON.parse(strictUtf8.decode(payload));
    } catch {
      return { ok: false, reason: "malformed", detail: "payload is not JSON" };
    }
    const checked = checkClaims(decoded, policy, Math.floor(ctx.now / 1000));
    return checked.ok ? checked : { ok: false, reason: checked.reason };
  };
}

function classify(error: unknown): { reason: AuthFailure; detail: string } {
  if (error instanceof KeyFailure) return { reason: error.reason, detail: error.message };
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof errors.JOSEAlgNotAllowed) return { reason: "alg-not-allowed", detail };
  if (error instanceof errors.JWSSignatureVerificationFailed) return { reason: "bad-signature", detail };
  // An unrecognised crit extension (RFC 7515 §4.1.11) is the one "not supported" case left
  // once the algorithm passed the allow-list.
  if (error instanceof errors.JOSENotSupported)
    return { reason: detail.includes("Extension") ? "unsupported-crit" : "alg-not-allowed", detail };
  // A key of the wrong type for the algorithm (jose checks CryptoKey against alg).
  if (error instanceof TypeError && !(error instanceof errors.JOSEError)) return { reason: "key-mismatch", detail };
  return { reason: "malformed", detail };
}

/** Why the header's `typ` is refused (pinned: exactly that one; else `DEFAULT_TYPS` or none), or null. */
function checkTyp(value: unknown, pinned: string | null): string | null {
  if (value === undefined && pinned === null) return null;
  if (typeof value !== "string") return value === undefined ? `typ missing, ${pinned} required` : "typ is not a string";
  const typ = normalizeTyp(value);
  const shown = typ.slice(0, MAX_LOGGED_TYP_CHARS);
  if (pinned !== null) return typ === pinned ? null : `typ ${shown}, ${pinned} required`;
  return DEFAULT_TYPS.has(typ) ? null : `typ ${shown} is not an access token`;
}

/** RFC 7515 §4.1.9: "application/" may be omitted, compared case-insensitively. */
function normalizeTyp(value: string): string {
  const lower = value.toLowerCase();
  return lower.includes("/") ? lower : `application/${lower}`;
}
