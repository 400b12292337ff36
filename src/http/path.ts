/**
 * One canonical path per request. Origins (nginx, Go, Spring, Django, Tomcat) normalise a path
 * before they route it: they decode `%XX` (some also `%2F`), merge `//`, resolve `..`, drop
 * `;params`. A proxy that routes, authorizes or keys on another spelling than the one its
 * origin acts on can be walked past (`/pub/..%2fprivate/x`, `//private/x`, `/private;/x`).
 * So the spellings every origin agrees on are made equal here, and the ones origins disagree on
 * are refused (callers answer 400). Pure: no Brim types, no I/O.
 */

/** Why a path is ambiguous: origins differ on what it names. */
export type PathProblem =
  /** Not "/" followed by the rest (RFC 9112 §3.2.1 origin-form). */
  | "not-absolute"
  /** "%" not followed by two hex digits (RFC 3986 §2.1). */
  | "bad-escape"
  /** `%2F`: a separator to some origins (nginx, Go's `RawPath` users), data to others. */
  | "encoded-slash"
  /** `%5C`: a separator once decoded on Windows stacks and in some frameworks. */
  | "encoded-backslash"
  /** A raw `\`: WHATWG URL parsing turns it into "/", other parsers do not. */
  | "backslash"
  /** `%00`–`%1F`, `%7F`: truncation and log injection once decoded. */
  | "encoded-control"
  /** `%25XX`: an origin that decodes twice sees another character (often `.` or `/`). */
  | "double-encoded"
  /** A `.` or `..` segment, also spelt `%2E` (RFC 3986 §5.2.4 would remove it). */
  | "dot-segment"
  /** `//`: merged into one "/" by nginx (`merge_slashes`), Spring and others. */
  | "empty-segment"
  /** `;` or `%3B`: path parameters (RFC 3986 §3.3), dropped by Tomcat, Jetty and Spring. */
  | "path-parameter";

export type CanonicalPath = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: PathProblem };

const ESCAPE = /%([0-9A-Fa-f]{2})/g;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const DOUBLE_ENCODED = /%25[0-9A-Fa-f]{2}/;
/** RFC 3986 §2.3 unreserved: decoding these never changes what a URI names (§6.2.2.2). */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const DOT_SEGMENT = /\/\.\.?(?=\/|$)/;
const PARAMS = /;[^/]*/g;
const SLASHES = /\/{2,}/g;
const BACKSLASHES = /\\/g;

/** Escapes whose decoded byte makes a path ambiguous, by the upper-case hex digits. */
const AMBIGUOUS_ESCAPES: ReadonlyMap<string, PathProblem> = new Map([
  ["2F", "encoded-slash"],
  ["5C", "encoded-backslash"],
  ["3B", "path-parameter"],
]);

/**
 * The canonical form of a raw path (what the client sent, before any decoding; no query), or
 * why there is none. Percent-encoded unreserved characters are decoded and the remaining
 * escapes upper-cased (RFC 3986 §6.2.2.1, §6.2.2.2), so equivalent spellings are one string.
 * Refused: a raw `\`, `;` path parameters, `%2F`, `%5C`, `%3B`, control characters, `%25XX`,
 * dot segments (also once `%2E` is decoded), empty segments (`//`; a trailing "/" is fine) and
 * malformed escapes. The result is stable under WHATWG URL parsing, so a URL built from it
 * sends exactly this path (RFC 9110 §4.2.3 lists the equivalences a cache may apply).
 */
export function canonicalPath(raw: string): CanonicalPath {
  if (!raw.startsWith("/")) return { ok: false, reason: "not-absolute" };
  if (raw.includes("\\")) return { ok: false, reason: "backslash" };
  if (raw.includes(";")) return { ok: false, reason: "path-parameter" };
  let path = raw;
  if (raw.includes("%")) {
    if (BAD_ESCAPE.test(raw)) return { ok: false, reason: "bad-escape" };
    let problem: PathProblem | null = null;
    path = raw.replace(ESCAPE, (escape: string, hex: string) => {
      problem ??= escapeProblem(hex.toUpperCase());
      return decodedEscape(escape, hex);
    });
    if (problem) return { ok: false, reason: problem };
    // After decoding: `%25%41%42` becomes `%25AB`, which a second decoding turns into a byte.
    if (DOUBLE_ENCODED.test(path)) return { ok: false, reason: "double-encoded" };
  }
  if (path.includes("//")) return { ok: false, reason: "empty-segment" };
  if (DOT_SEGMENT.test(path)) return { ok: false, reason: "dot-segment" };
  return { ok: true, path };
}

/**
 * For routes that opt out of the ambiguity check: the path as a WHATWG URL parser (and so
 * `fetch`) will send it, with escapes normalised as in `canonicalPath` and nothing refused but
 * a malformed escape. Dot segments are resolved (RFC 3986 §5.2.4) and `\` becomes "/", since
 * the outgoing URL would do that anyway; `%2F`, `%5C`, `;`, `//` and the rest are kept as sent.
 */
export function lenientPath(raw: string): CanonicalPath {
  if (!raw.startsWith("/")) return { ok: false, reason: "not-absolute" };
  if (BAD_ESCAPE.test(raw)) return { ok: false, reason: "bad-escape" };
  return { ok: true, path: removeDotSegments(raw.replace(ESCAPE, decodedEscape).replace(BACKSLASHES, "/")) };
}

/**
 * The path as the most normalising origin would route it: every ASCII escape decoded once
 * (`%2F` included), `\` as "/", `;params` dropped, `//` merged, dot segments resolved. Used only
 * to check that an opted-out route is the one such an origin would also pick; never sent.
 */
export function normalisingOriginReading(raw: string): string {
  const decoded = raw.replace(ESCAPE, (escape: string, hex: string) => {
    const code = Number.parseInt(hex, 16);
    return code < 0x80 ? String.fromCharCode(code) : escape;
  });
  return removeDotSegments(decoded.replace(BACKSLASHES, "/").replace(PARAMS, "").replace(SLASHES, "/"));
}

/** Percent-escapes upper-cased and unreserved ones decoded (RFC 3986 §6.2.2.1, §6.2.2.2). */
export function normalizeEscapes(text: string): string {
  return text.includes("%") ? text.replace(ESCAPE, decodedEscape) : text;
}

/**
 * The path of a serialized URL exactly as it stands (no query, no fragment): re-parsing it with
 * `new URL` would resolve dot segments and backslashes the client may have sent encoded.
 */
export function rawPathOf(url: string): string {
  const [start, end] = pathBounds(url);
  return start === end ? "/" : url.slice(start, end);
}

/** `url` with its path replaced by `path` (query and fragment kept), without re-parsing. */
export function withPath(url: string, path: string): string {
  const [start, end] = pathBounds(url);
  return `${url.slice(0, start)}${path}${url.slice(end)}`;
}

/** Where the path of an absolute URL starts and ends: after the authority, before "?" / "#". */
function pathBounds(url: string): [number, number] {
  const scheme = url.indexOf("://");
  const authority = scheme === -1 ? 0 : scheme + 3;
  let end = url.length;
  for (const stop of ["?", "#"]) {
    const at = url.indexOf(stop, authority);
    if (at !== -1 && at < end) end = at;
  }
  const slash = url.indexOf("/", authority);
  return [slash === -1 || slash > end ? end : slash, end];
}

function decodedEscape(escape: string, hex: string): string {
  const char = String.fromCharCode(Number.parseInt(hex, 16));
  return UNRESERVED.test(char) ? char : escape.toUpperCase();
}

function escapeProblem(hex: string): PathProblem | null {
  const known = AMBIGUOUS_ESCAPES.get(hex);
  if (known) return known;
  const code = Number.parseInt(hex, 16);
  return code < 0x20 || code === 0x7f ? "encoded-control" : null;
}

/** RFC 3986 §5.2.4 for a path that starts with "/"; `..` above the root stays at the root. */
function removeDotSegments(path: string): string {
  const segments = path.split("/").slice(1);
  const out: string[] = [];
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === "..") out.pop();
    if (segment === "." || segment === "..") {
      if (last) out.push("");
    } else {
      out.push(segment);
    }
  });
  return `/${out.join("/")}`;
}
