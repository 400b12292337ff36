import { CACHE_STATUS_NAME } from "../constants";

/** RFC 9211 §2.2 forward reasons Brim uses. */
export type ForwardReason = "bypass" | "method" | "uri-miss" | "vary-miss" | "miss" | "request" | "stale";

/** One Cache-Status list member (RFC 9211 §2). */
export interface CacheStatus {
  readonly hit?: boolean;
  readonly fwd?: ForwardReason;
  readonly fwdStatus?: number;
  /** Remaining freshness in seconds; negative when stale (RFC 9211 §2.4). */
  readonly ttl?: number;
  readonly stored?: boolean;
  readonly collapsed?: boolean;
  readonly detail?: string;
}

const TOKEN = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/;

/** Serialises Brim's member as an RFC 8941 list member. */
export function formatCacheStatus(status: CacheStatus): string {
  let out = CACHE_STATUS_NAME;
  if (status.hit) out += "; hit";
  if (status.fwd) out += `; fwd=${status.fwd}`;
  if (status.fwdStatus !== undefined) out += `; fwd-status=${status.fwdStatus}`;
  if (status.ttl !== undefined) out += `; ttl=${Math.trunc(status.ttl)}`;
  if (status.stored) out += "; stored";
  if (status.collapsed) out += "; collapsed";
  if (status.detail) out += `; detail=${TOKEN.test(status.detail) ? status.detail : JSON.stringify(status.detail)}`;
  return out;
}

/**
 * Appends Brim's member to any Cache-Status from caches nearer the origin: the list runs from
 * the origin side to the client side (RFC 9211 §2).
 */
export function appendCacheStatus(headers: Headers, status: CacheStatus): void {
  const existing = headers.get("cache-status");
  const mine = formatCacheStatus(status);
  headers.set("cache-status", existing ? `${existing}, ${mine}` : mine);
}
