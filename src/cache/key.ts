import { CACHE_KEY_ORIGIN } from "../constants";
import { headerMaterial, normalizePath, normalizeQuery, sha256Hex } from "../http/key-material";
import type { CacheKeyPolicy, KeyIdentity } from "../tenant/types";

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
