import { parseCacheControl } from "../http/cache-control";
import type { CompressionPolicy } from "../tenant/types";

export { DEFAULT_COMPRESSIBLE_TYPES } from "../constants";

/** Statuses whose responses have no body to compress, or describe a part (RFC 9110 §15.3.7). */
const NO_COMPRESS_STATUSES = new Set([204, 206, 304]);

/**
 * Whether Brim should compress this (identity) response for the client. Pure: it looks only
 * at what is passed in. `no-transform` forbids it (RFC 9111 §5.2.2.6), as does a response
 * already carrying a Content-Encoding.
 */
export function shouldCompress(status: number, headers: Headers, policy: CompressionPolicy): boolean {
  if (NO_COMPRESS_STATUSES.has(status)) return false;
  if (headers.has("content-encoding") || headers.has("content-range")) return false;
  if (parseCacheControl(headers.get("cache-control")).has("no-transform")) return false;
  const length = headers.get("content-length");
  if (length !== null && Number(length) < policy.minBytes) return false;
  return isCompressibleType(headers.get("content-type"), policy.types);
}

/** Matches a Content-Type against patterns: exact, `type/*`, or `type/*+suffix`. */
export function isCompressibleType(contentType: string | null, patterns: readonly string[]): boolean {
  if (!contentType) return false;
  const type = contentType.split(";", 1)[0]!.trim().toLowerCase();
  const slash = type.indexOf("/");
  if (slash <= 0) return false;
  const major = type.slice(0, slash);
  const plus = type.lastIndexOf("+");
  const suffix = plus > slash ? type.slice(plus) : null;
  for (const pattern of patterns) {
    if (pattern === type || pattern === `${major}/*`) return true;
    if (suffix !== null && pattern === `${major}/*${suffix}`) return true;
  }
  return false;
}
