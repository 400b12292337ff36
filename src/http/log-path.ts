/**
 * The path and query of a request as a log line shows it (pure): credential-like query values
 * replaced, so a token a client puts in a URL (RFC 6750 §5.3 says not to, and Brim refuses
 * `access_token` on auth routes, but the request is still logged) never reaches Workers Logs.
 *
 * A parameter is credential-like when its name, decoded as an origin would decode it
 * (`%74oken` is `token`, `+` is a space; decoded up to twice, so `%2574oken` counts too, and
 * compared case-insensitively), is in CREDENTIAL_PARAM_NAMES or contains one of
 * CREDENTIAL_PARAM_PARTS. Its value becomes `REDACTED`; its name is kept as sent. Every
 * occurrence is redacted (repeated parameters), `;` separates parameters as `&` does (some
 * origins split on it), and a name without `=` is kept (it has no value). The result is cut to
 * LOG_PATH_MAX_CHARS after redaction, so a cut never exposes a value. The path itself is kept
 * as sent; a credential in a path segment cannot be told from data.
 */
import { LOG_PATH_MAX_CHARS } from "../constants";

/** Names whose values are credentials wherever they appear (compared lower-cased, decoded). */
export const CREDENTIAL_PARAM_NAMES: ReadonlySet<string> = new Set([
  "access_token",
  "id_token",
  "refresh_token",
  "token",
  "code",
  "key",
  "api_key",
  "apikey",
  "sig",
  "signature",
  "password",
  "passwd",
  "pwd",
  "secret",
  "client_secret",
  "auth",
  "authorization",
  "jwt",
  "session",
  "sessionid",
  "x-amz-signature",
  "x-amz-credential",
  "x-amz-security-token",
  "x-goog-signature",
  "x-goog-credential",
  "api-key",
  "x-api-key",
  "access_key",
  "private_key",
  "auth_key",
  "auth_code",
  "client_assertion",
  "otp",
  "hmac",
  "ticket",
  "sid",
]);

/** Substrings that make a name credential-like (`csrf_token`, `sharedAccessSignature`, `db_password`). */
export const CREDENTIAL_PARAM_PARTS: readonly string[] = [
  "token",
  "secret",
  "password",
  "passwd",
  "signature",
  "credential",
  "apikey",
  "api_key",
  "api-key",
  "access_key",
  "private_key",
];

const REDACTED = "REDACTED";
const SEPARATOR = /([&;])/;

/**
 * The path and query of `url` (an absolute URL as the runtime gives it, or a path starting
 * with "/"), with credential-like query values redacted and the whole cut to `maxChars`.
 */
export function loggedPath(url: string, maxChars = LOG_PATH_MAX_CHARS): string {
  const start = pathStart(url);
  const hash = url.indexOf("#", start);
  const rest = hash === -1 ? url.slice(start) : url.slice(start, hash);
  const q = rest.indexOf("?");
  const out = q === -1 ? rest : `${rest.slice(0, q + 1)}${redactQuery(rest.slice(q + 1))}`;
  return out.length > maxChars ? `${out.slice(0, Math.max(0, maxChars - 3))}...` : out;
}

/**
 * An absolute URL for a log line (a tenant's feed or JWKS URL): origin, path and query with
 * credential-like values redacted, without userinfo (`URL.origin` drops it) or fragment.
 */
export function loggedUrl(url: string): string {
  try {
    return new URL(url).origin + loggedPath(url);
  } catch {
    return loggedPath(url);
  }
}

/** The query (without "?") with credential-like values redacted; separators kept as sent. */
export function redactQuery(query: string): string {
  if (query === "") return query;
  // With the separator captured, even indices are parameters and odd ones the separators between them.
  const pieces = query.split(SEPARATOR);
  for (let i = 0; i < pieces.length; i += 2) {
    const part = pieces[i]!;
    const eq = part.indexOf("=");
    if (eq !== -1 && isCredentialName(part.slice(0, eq))) pieces[i] = `${part.slice(0, eq)}=${REDACTED}`;
  }
  return pieces.join("");
}

/** Whether a raw (still encoded) parameter name is credential-like. */
export function isCredentialName(raw: string): boolean {
  let name = raw.toLowerCase();
  // The origin decodes once; decoding twice also catches a name hidden behind a second escape.
  for (let i = 0; i < 3; i++) {
    if (CREDENTIAL_PARAM_NAMES.has(name.trim()) || CREDENTIAL_PARAM_PARTS.some((part) => name.includes(part))) return true;
    const decoded = decodeName(name);
    if (decoded === name) return false;
    name = decoded.toLowerCase();
  }
  return false;
}

/** `application/x-www-form-urlencoded` name decoding (WHATWG URL §5.1); a bad escape stays as sent. */
function decodeName(name: string): string {
  const plus = name.replaceAll("+", " ");
  try {
    return decodeURIComponent(plus);
  } catch {
    // A malformed escape elsewhere in the name must not hide a good one: decode each valid %XX.
    return plus.replace(/%[0-9a-f]{2}/gi, (escape) => String.fromCharCode(parseInt(escape.slice(1), 16)));
  }
}

/** Where the path starts: after `scheme://authority`, or 0 for a path. */
function pathStart(url: string): number {
  if (url.startsWith("/")) return 0;
  const scheme = url.indexOf("://");
  if (scheme === -1) return 0;
  const slash = url.indexOf("/", scheme + 3);
  return slash === -1 ? url.length : slash;
}
