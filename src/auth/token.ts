/** Where a request's token is read from (pure). */

export interface FoundToken {
  readonly token: string;
  /** "header": the configured header; "cookie": the configured cookie. */
  readonly source: "header" | "cookie";
}

/** RFC 6750 §2.1: `Bearer 1*SP b64token`; the scheme is case-insensitive (RFC 9110 §11.1). */
const BEARER = /^bearer +(\S+) *$/i;

/**
 * The bearer token from `header` (as `Bearer <token>`; a header other than Authorization
 * may also carry the bare token), else from the cookie `cookie`. A non-Bearer Authorization
 * (Basic, ...) is not ours: it counts as no token.
 */
export function findToken(headers: Headers, header: string, cookie: string | null): FoundToken | null {
  const value = headers.get(header);
  if (value !== null) {
    const bearer = BEARER.exec(value.trim());
    if (bearer?.[1]) return { token: bearer[1], source: "header" };
    if (header !== "authorization" && value.trim() !== "" && !value.includes(" ")) return { token: value.trim(), source: "header" };
  }
  if (cookie !== null) {
    const token = cookieValue(headers.get("cookie"), cookie);
    if (token) return { token, source: "cookie" };
  }
  return null;
}

/** The value of cookie `name` (RFC 6265 §5.4 `name=value; ...`), or null. */
export function cookieValue(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name)
      return (
        part
          .slice(eq + 1)
          .trim()
          .replace(/^"(.*)"$/, "$1") || null
      );
  }
  return null;
}

/** The Cookie header without cookie `name`, or null when nothing is left. */
export function withoutCookie(header: string, name: string): string | null {
  const kept = header.split(";").filter((part) => {
    const eq = part.indexOf("=");
    return (eq === -1 ? part : part.slice(0, eq)).trim() !== name;
  });
  const joined = kept
    .map((p) => p.trim())
    .filter(Boolean)
    .join("; ");
  return joined === "" ? null : joined;
}
