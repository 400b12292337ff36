/**
 * Pure parsing of Cache-Control (RFC 9111 §5.2) and of targeted fields such as
 * CDN-Cache-Control (RFC 9213). No freshness logic lives here: callers read directives with
 * `deltaSeconds` and `fieldNames` and decide.
 */
import { parseDictionary, Token } from "structured-headers";

/**
 * Parsed directives: lower-cased name → value, `true` when the directive had no `=value`.
 * Quoted-string values are already unquoted and unescaped.
 */
export type Directives = ReadonlyMap<string, string | true>;

/**
 * Characters of a header value looked at; the rest is ignored. Real Cache-Control values are
 * a few dozen characters; the cap keeps a hostile origin from making every parse expensive.
 */
export const CACHE_CONTROL_MAX_CHARS = 8192;

/** RFC 9111 §1.2.2: delta-seconds too large to represent saturate at 2^31. */
export const DELTA_SECONDS_MAX = 2 ** 31;

// RFC 9110 §5.6.2 token; §5.6.4 quoted-string (qdtext and quoted-pair, obs-text allowed).
// `y` (sticky) makes each exec match exactly at lastIndex, so a garbage member cannot make the
// engine rescan the rest of the header from every position.
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const QDTEXT = "[\\t \\x21\\x23-\\x5B\\x5D-\\x7E\\x80-\\uFFFF]";
const QUOTED_PAIR = "\\\\[\\t \\x21-\\x7E\\x80-\\uFFFF]";
const MEMBER_RE = new RegExp(`(${TOKEN})(?:[ \\t]*=[ \\t]*(?:(${TOKEN})|"((?:${QDTEXT}|${QUOTED_PAIR})*)"))?[ \\t]*(,|$)`, "y");
// RFC 9110 §5.6.1: recipients accept empty list elements (`a,,b`) and OWS around commas.
const SEPARATORS_RE = /[ \t,]*/y;
// Skips one unparsable member up to and including the next comma that is not inside a quoted
// string, so `x="a, max-age=9"` cannot smuggle a directive in through the recovery path.
// It can always match greedily (an unterminated quote or a lone trailing backslash runs to
// the end), so it never backtracks.
const GARBAGE_RE = /(?:[^",]|"(?:[^"\\]|\\[\s\S]?)*"?)*,?/y;
const QUOTED_PAIR_RE = /\\([\s\S])/g;
const DIGITS_RE = /^[0-9]+$/;
const EMPTY: readonly string[] = Object.freeze([]);
/** Directives whose argument is delta-seconds (RFC 9111 §5.2, RFC 5861): Integers in a targeted field. */
const DELTA_DIRECTIVES: ReadonlySet<string> = new Set([
  "max-age",
  "s-maxage",
  "stale-while-revalidate",
  "stale-if-error",
  "max-stale",
  "min-fresh",
]);

/**
 * Parses a Cache-Control field value (RFC 9111 §5.2: `#cache-directive`, each
 * `token [ "=" ( token / quoted-string ) ]`).
 *
 * Never throws. Members that do not fit the grammar (`max-age==5`, `"x"`, a name with a
 * space in it) are skipped one at a time; the rest of the header still counts. Beyond the
 * grammar it tolerates whitespace around `=`, since dropping `max-age = 60` would turn a
 * plainly cacheable response into one without freshness information.
 *
 * Duplicate directives: the FIRST occurrence wins. RFC 9111 §4.2.1 lets a cache either pick
 * one or treat the response as stale. First-wins is predictable and cannot be overridden by
 * text appended later in the header (e.g. by an intermediary adding a second field line).
 *
 * Only the first {@link CACHE_CONTROL_MAX_CHARS} characters are read; a member cut by that
 * limit is dropped rather than read truncated (a cut `max-age=31536000` must not become 315).
 *
 * @param value the raw field value (multiple field lines already joined with ", "), or
 *   null/undefined when the field is absent.
 * @returns the directives; an empty map when absent or nothing parsed.
 */
export function parseCacheControl(value: string | null | undefined): Directives {
  const out = new Map<string, string | true>();
  if (!value) return out;
  const truncated = value.length > CACHE_CONTROL_MAX_CHARS;
  const input = truncated ? value.slice(0, CACHE_CONTROL_MAX_CHARS) : value;
  let i = 0;
  while (true) {
    SEPARATORS_RE.lastIndex = i;
    SEPARATORS_RE.exec(input);
    i = SEPARATORS_RE.lastIndex;
    if (i >= input.length) break;
    MEMBER_RE.lastIndex = i;
    const m = MEMBER_RE.exec(input);
    if (m === null) {
      GARBAGE_RE.lastIndex = i;
      GARBAGE_RE.exec(input);
      // Always advance, so no input can stall the loop.
      i = Math.max(GARBAGE_RE.lastIndex, i + 1);
      continue;
    }
    i = MEMBER_RE.lastIndex;
    // A member that runs into the cut (no comma after it) may itself be cut: drop it.
    if (truncated && m[4] === "") break;
    const name = (m[1] as string).toLowerCase();
    if (out.has(name)) continue;
    const quoted = m[3];
    out.set(name, m[2] ?? (quoted === undefined ? true : unquote(quoted)));
  }
  return out;
}

/**
 * Reads a directive's argument as delta-seconds (RFC 9111 §1.2.2): one or more digits only,
 * saturating at 2^31 when larger.
 *
 * Returns null when the directive is absent or its value is invalid: negative, fractional,
 * empty, non-numeric, or missing (`max-age` with no `=`). Callers must not read null as
 * "no limit": RFC 9111 §4.2.1 and §5.2 call for treating a response with an invalid max-age
 * or s-maxage as stale, so the safe reading of an invalid value is zero freshness.
 *
 * A quoted `max-age="60"` reaches here as "60" and is accepted: RFC 9111 §5.2 says senders
 * should not quote it but recipients should accept it.
 *
 * @param d directives from {@link parseCacheControl} or {@link parseTargetedCacheControl}.
 * @param name directive name (matched case-insensitively).
 */
export function deltaSeconds(d: Directives, name: string): number | null {
  const v = d.get(name.toLowerCase());
  if (typeof v !== "string" || !DIGITS_RE.test(v)) return null;
  // Leading zeros make digit count a poor guide, so convert and saturate (a huge value
  // becomes Infinity, which saturates too).
  const n = Number(v);
  return n > DELTA_SECONDS_MAX ? DELTA_SECONDS_MAX : n;
}

/**
 * Reads the field-name list of a qualified `private="a, b"` or `no-cache="set-cookie"`
 * (RFC 9111 §5.2.2.4, §5.2.2.7).
 *
 * @param d parsed directives.
 * @param name directive name (matched case-insensitively).
 * @returns null when the directive is absent; `[]` when it is present unqualified (the
 *   whole response is private / must be revalidated); otherwise the lower-cased field names
 *   (field names are case-insensitive, RFC 9110 §5.1), empty entries dropped.
 */
export function fieldNames(d: Directives, name: string): readonly string[] | null {
  const v = d.get(name.toLowerCase());
  if (v === undefined) return null;
  if (v === true) return EMPTY;
  const names: string[] = [];
  for (const part of v.split(",")) {
    const f = part.trim().toLowerCase();
    if (f !== "") names.push(f);
  }
  return names;
}

/**
 * Parses a targeted cache-control field such as CDN-Cache-Control (RFC 9213 §2.1), which is
 * a Structured Fields Dictionary (RFC 8941 §3.2), not Cache-Control syntax.
 *
 * Members map to directives as: Boolean true → `true`; Integer → its decimal string (so
 * {@link deltaSeconds} reads it; a negative one is then invalid there); String or Token → its
 * text, except for delta-seconds directives (`max-age`, `s-maxage`, …), which take only an
 * Integer: a member of the wrong type is ignored (RFC 9213 §2.1). Members of other types (false, Decimal with a fraction, Byte Sequence, Inner List,
 * Date, Display String) are not valid directive values and are skipped. Parameters on members
 * are ignored (RFC 9213 §2.1). Duplicate keys: the LAST wins, as RFC 8941 §4.2.2 requires,
 * unlike Cache-Control above.
 *
 * One quirk of the parser: a Decimal with a zero fraction (`max-age=60.0`) comes back as the
 * number 60 and is read as the Integer 60.
 *
 * @returns null when the field is absent, empty, longer than
 *   {@link CACHE_CONTROL_MAX_CHARS}, or not a valid Dictionary: RFC 9213 §2.1 says such a
 *   field is ignored, and the cache falls back to Cache-Control.
 */
export function parseTargetedCacheControl(value: string | null | undefined): Directives | null {
  if (value == null || value.length > CACHE_CONTROL_MAX_CHARS) return null;
  let dict: ReturnType<typeof parseDictionary>;
  try {
    dict = parseDictionary(value);
  } catch {
    return null;
  }
  if (dict.size === 0) return null;
  const out = new Map<string, string | true>();
  for (const [key, member] of dict) {
    const bare = member[0];
    // RFC 9213 §2.1: a member whose value has the wrong type is ignored; delta-seconds
    // directives take an Integer, so `max-age="10000"` (a String) does not count.
    if (DELTA_DIRECTIVES.has(key) && !(typeof bare === "number" && Number.isInteger(bare))) continue;
    if (bare === true) out.set(key, true);
    else if (typeof bare === "number" && Number.isInteger(bare)) out.set(key, String(bare));
    else if (typeof bare === "string") out.set(key, bare);
    else if (bare instanceof Token) out.set(key, bare.toString());
  }
  return out;
}

function unquote(quoted: string): string {
  return quoted.includes("\\") ? quoted.replace(QUOTED_PAIR_RE, "$1") : quoted;
}
