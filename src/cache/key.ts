import { CACHE_KEY_ORIGIN } from "../constants";
import { normalizeEscapes } from "../http/path";
import type { CacheKeyPolicy } from "../tenant/types";

/**
 * The cache key: tenant id + normalised path and query + the route's key headers. Two tenants
 * never share a key (the id is its first line); all hosts of one tenant do (the host is not in
 * it). The key material is hashed, so the Cache API URL and, later, Durable Object names never
 * carry raw header values.
 */
export interface CacheKey {
  /** Human-readable material, for logs and tests. */
  readonly material: string;
  /** Synthetic URL used with the Cache API. */
  readonly url: string;
  /** Query string forwarded to the origin (`""` or `"?..."`): only what is in the key. */
  readonly search: string;
}

const PERCENT_HEX = /%[0-9a-f]{2}/g;
const PLUS = /\+/g;

/**
 * Normalises a raw query string per the route's policy. Pairs are kept raw (no `+`/`%20`
 * rewriting: an origin may distinguish them), sorted by name with a stable sort so repeated
 * names keep their relative order, and percent-escapes are upper-cased (RFC 3986 §6.2.2.1).
 */
export function normalizeQuery(search: string, policy: CacheKeyPolicy["query"]): string {
  if (policy.mode === "none" || search.length <= 1) return "";
  const pairs = search
    .slice(search.startsWith("?") ? 1 : 0)
    .split("&")
    .filter((pair) => pair.length > 0)
    .map((pair) => pair.replace(PERCENT_HEX, (m) => m.toUpperCase()))
    .map((pair) => ({ pair, name: pairName(pair) }));
  const kept =
    policy.mode === "allow" ? pairs.filter((p) => policy.names.includes(p.name)) : pairs;
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
 * Who the request is on an auth route (set by src/auth/): verified or anonymous, and the
 * verified claim values the response may depend on. Never the token.
 */
export interface KeyIdentity {
  readonly verified: boolean;
  /** [claim name, value] in a fixed order per route; values are JSON-encoded into the key. */
  readonly claims: readonly (readonly [string, unknown])[];
}

/** Builds the key material; pure, so it can be property-tested. */
export function cacheKeyMaterial(
  tenantId: string,
  url: URL,
  policy: CacheKeyPolicy,
  headers: Headers,
  identity?: KeyIdentity,
): { material: string; search: string } {
  const search = normalizeQuery(url.search, policy.query);
  let material = `${tenantId}\n${normalizePath(url.pathname)}${search}`;
  for (const name of policy.headers) material += `\n${headerMaterial(name, headers.get(name))}`;
  if (identity) {
    // Anonymous and verified requests never share an entry; JSON keeps values on one line.
    material += `\nauth:${identity.verified ? "verified" : "anonymous"}`;
    for (const [name, value] of identity.claims) material += `\nclaim:${JSON.stringify(name)}=${JSON.stringify(value ?? null)}`;
  }
  return { material, search };
}

/**
 * Collapses insignificant whitespace so `a,b` and `a, b` share one key (RFC 9110 §5.6.1).
 * An absent field stays null: it is not the same as an empty one (RFC 9111 §4.1).
 */
export function normalizeHeaderValue(value: string | null): string | null {
  if (value === null) return null;
  return value.trim().replace(/\s*,\s*/g, ",").replace(/\s+/g, " ");
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

/** Derives the full key (material, hashed Cache API URL, forwarded query). */
export async function cacheKey(
  tenantId: string,
  url: URL,
  policy: CacheKeyPolicy,
  headers: Headers,
  identity?: KeyIdentity,
): Promise<CacheKey> {
  const { material, search } = cacheKeyMaterial(tenantId, url, policy, headers, identity);
  const hash = await sha256Hex(material);
  return { material, search, url: `${CACHE_KEY_ORIGIN}/${encodeURIComponent(tenantId)}/${hash}` };
}

const encoder = new TextEncoder();

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  let hex = "";
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
