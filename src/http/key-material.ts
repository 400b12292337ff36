/**
 * Pure key material (RFC 3986 §6.2.2 normalisation, RFC 9111 §4.1 header matching): how paths,
 * queries and header values are compared, so equivalent requests share an entry. No Brim types.
 */
import { normalizeEscapes } from "./path";

/** Which query parameters count (a route's `key.query`, structurally). */
export type QueryPolicy =
  { readonly mode: "all" } | { readonly mode: "none" } | { readonly mode: "allow"; readonly names: readonly string[] };

const PERCENT_HEX = /%[0-9a-f]{2}/g;
const PLUS = /\+/g;

/**
 * Normalises a raw query string per the route's policy. Pairs are kept raw (no `+`/`%20`
 * rewriting: an origin may distinguish them), sorted by name with a stable sort so repeated
 * names keep their relative order, and percent-escapes are upper-cased (RFC 3986 §6.2.2.1).
 */
export function normalizeQuery(search: string, policy: QueryPolicy): string {
  if (policy.mode === "none" || search.length <= 1) return "";
  const pairs = search
    .slice(search.startsWith("?") ? 1 : 0)
    .split("&")
    .filter((pair) => pair.length > 0)
    .map((pair) => pair.replace(PERCENT_HEX, (m) => m.toUpperCase()))
    .map((pair) => ({ pair, name: pairName(pair) }));
  const kept = policy.mode === "allow" ? pairs.filter((p) => policy.names.includes(p.name)) : pairs;
  kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return kept.length === 0 ? "" : `?${kept.map((p) => p.pair).join("&")}`;
}

function pairName(pair: string): string {
  const eq = pair.indexOf("=");
  const raw = eq === -1 ? pair : pair.slice(0, eq);
  try {
    return decodeURIComponent(raw.replace(PLUS, " "));
  } catch {
    return raw;
  }
}

/**
 * Normalises a path's percent-escapes (RFC 3986 §6.2.2.1, §6.2.2.2). Request paths arrive
 * already canonical (src/tenant/middleware.ts), so for them this changes nothing; purge
 * selectors go through it to match what entries record.
 */
export function normalizePath(pathname: string): string {
  return normalizeEscapes(pathname);
}

/**
 * Collapses insignificant whitespace so `a,b` and `a, b` share one key (RFC 9110 §5.6.1).
 * An absent field stays null: it is not the same as an empty one (RFC 9111 §4.1).
 */
export function normalizeHeaderValue(value: string | null): string | null {
  if (value === null) return null;
  return value
    .trim()
    .replace(/\s*,\s*/g, ",")
    .replace(/\s+/g, " ");
}

/**
 * One header's key material: `name:value`, or the bare name when the request lacks the field,
 * so an absent field and an empty one never share an entry (RFC 9111 §4.1: a stored response
 * selected by a header the request lacks only matches another request lacking it). Field
 * names are tokens, so they never contain ":".
 */
export function headerMaterial(name: string, value: string | null): string {
  const normalized = normalizeHeaderValue(value);
  return normalized === null ? name : `${name}:${normalized}`;
}

const encoder = new TextEncoder();

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  let hex = "";
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
