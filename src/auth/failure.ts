/**
 * Every way a request can fail auth, as one tagged union, mapped in one `switch` to a
 * deliberately generic response (RFC 6750 §3). The precise reason goes to the log; the token
 * never does.
 */
import { errorResponse, type BrimErrorCode } from "../errors";
import type { ClaimFailure } from "./claims";
import type { RevokedReason } from "./revocation/list";

export type AuthFailure =
  /** No token on a `required` route: 401 without an error code (RFC 6750 §3.1). */
  | "missing-token"
  /** A token in the query, or more than one credential (RFC 6750 §2.3, §3.1, §5.3): 400. */
  | "invalid-request"
  | "oversize"
  | "malformed"
  | "alg-not-allowed"
  | "unsupported-crit"
  | "unknown-kid"
  | "key-mismatch"
  | "bad-signature"
  | "wrong-typ"
  | ClaimFailure
  | RevokedReason
  | "insufficient-scope"
  /** No key to verify with (JWKS unreachable on a cold isolate, secret binding missing). */
  | "keys-unavailable"
  /** The revocation list is older than maxStaleSeconds and onStale is "deny". */
  | "revocation-stale";

export interface FailureContext {
  readonly tenantId: string;
  /** The route's scopes, for `insufficient_scope`. */
  readonly scopes: readonly string[];
  /** Seconds a client should wait before retrying a 503. */
  readonly retryAfterSeconds: number;
}

/** The client's response for a failure: 400 / 401 / 403 / 503, `no-store`, nothing else revealed. */
export function failureResponse(reason: AuthFailure, ctx: FailureContext): Response {
  const realm = `Bearer realm="${ctx.tenantId}"`;
  switch (reason) {
    case "missing-token":
      return withAuthenticate("AUTH_REQUIRED", realm);
    case "invalid-request":
      return withAuthenticate("AUTH_INVALID_REQUEST", `${realm}, error="invalid_request"`);
    case "insufficient-scope":
      return withAuthenticate("AUTH_INSUFFICIENT_SCOPE", `${realm}, error="insufficient_scope", scope="${ctx.scopes.join(" ")}"`);
    case "keys-unavailable":
    case "revocation-stale":
      return errorResponse("AUTH_UNAVAILABLE", { "retry-after": String(ctx.retryAfterSeconds) });
    case "oversize":
    case "malformed":
    case "alg-not-allowed":
    case "unsupported-crit":
    case "unknown-kid":
    case "key-mismatch":
    case "bad-signature":
    case "wrong-typ":
    case "claims-not-object":
    case "missing-exp":
    case "bad-time-claim":
    case "expired":
    case "not-yet-valid":
    case "issued-in-future":
    case "wrong-issuer":
    case "wrong-audience":
    case "missing-iat":
    case "lifetime-too-long":
    case "revoked-jti":
    case "revoked-sub":
      return withAuthenticate("AUTH_INVALID_TOKEN", `${realm}, error="invalid_token"`);
  }
  const unhandled: never = reason;
  throw new Error(`unhandled auth failure ${String(unhandled)}`);
}

function withAuthenticate(code: BrimErrorCode, challenge: string): Response {
  return errorResponse(code, { "www-authenticate": challenge });
}
