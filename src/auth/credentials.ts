/**
 * Which credential a request presents on an auth route (pure): exactly one token, none, or
 * an `invalid_request` (RFC 6750 §3.1) when the request carries a token in a way Brim refuses.
 * A request with two credentials is ambiguous — the origin or a later hop may read the one
 * Brim did not verify — so it is refused, never resolved by picking one.
 */
import { findToken, type FoundToken } from "./token";

export type CredentialSearch =
  | { readonly kind: "none" }
  | { readonly kind: "token"; readonly found: FoundToken }
  | { readonly kind: "invalid-request"; readonly detail: string };

/** Where the token may be: the configured header, then the configured cookie. */
export interface TokenPlaces {
  /** Lower-cased header name. */
  readonly header: string;
  readonly cookie: string | null;
}

/** RFC 6750 §2.3: the URI query parameter for access tokens. */
const QUERY_TOKEN = "access_token";

/**
 * Where a new credential starts in a (possibly combined) header value: `auth-scheme 1*SP`
 * followed by token68 or the first auth-param (RFC 9110 §11.4). Commas inside one credential
 * separate its auth-params (`realm="x"`), which start with `token BWS "="`, so they do not match.
 */
const CREDENTIAL_START = /^\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+ +[^\s=,]/;

/**
 * The request's credential. Refused (`invalid-request`):
 * - `access_token` in the query: RFC 6750 §5.3 says not to pass tokens in URLs (they end up in
 *   logs, caches and Referer); Brim neither accepts nor forwards them, and never keys on them;
 * - more than one credential in the token header (two `Authorization` fields arrive combined
 *   with ",", RFC 9110 §5.3), or a token in both the header and the cookie, or the token
 *   cookie twice: RFC 6750 §2 — "clients MUST NOT use more than one method".
 */
export function findCredential(url: string, headers: Headers, places: TokenPlaces): CredentialSearch {
  // Only requests with a query pay for parsing it; names are compared decoded, so
  // `access%5Ftoken` is caught too (the origin would decode it the same way).
  const q = url.indexOf("?");
  if (q !== -1 && new URLSearchParams(url.slice(q + 1)).has(QUERY_TOKEN)) {
    return invalid("access_token in the query (RFC 6750 §5.3)");
  }
  const headerValue = headers.get(places.header);
  const inHeader = headerValue !== null && headerValue.trim() !== "";
  if (inHeader && credentialCount(headerValue, places.header) > 1) return invalid(`more than one credential in ${places.header}`);
  if (places.cookie !== null) {
    const copies = cookieCount(headers.get("cookie"), places.cookie);
    if (copies > 1) return invalid(`cookie ${places.cookie} sent ${copies} times`);
    if (copies === 1 && inHeader) return invalid(`a credential in ${places.header} and in cookie ${places.cookie}`);
  }
  const found = findToken(headers, places.header, places.cookie);
  return found ? { kind: "token", found } : { kind: "none" };
}

/** How many credentials a header value holds: auth-scheme starts for Authorization; comma-separated values otherwise. */
function credentialCount(value: string, header: string): number {
  const parts = value.split(",");
  if (header !== "authorization") return parts.filter((p) => p.trim() !== "").length;
  return parts.filter((p) => CREDENTIAL_START.test(p)).length;
}

/** How many times cookie `name` appears in the Cookie header (RFC 6265 §5.4 `name=value; ...`). */
function cookieCount(header: string | null, name: string): number {
  if (!header) return 0;
  let n = 0;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) n++;
  }
  return n;
}

function invalid(detail: string): CredentialSearch {
  return { kind: "invalid-request", detail };
}
