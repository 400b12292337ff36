import { countBytes } from "./fill";
import type { StoredEntry } from "../cache/store";
import { acceptableHeaders } from "../compress/represent";
import { PURGE_KEPT_BYPASS_MS } from "../constants";
import { errorResponse } from "../errors";
import { clientAcceptEncoding } from "../http/accept-encoding";
import type { Reuse } from "../http/freshness";
import type { Verdict } from "../purge/rules";
import type { CacheDeps, CacheRequest } from "./context";
import { tag } from "./outcome";

/**
 * A hit on a variant Brim compressed saves its identity length minus the bytes sent. With a
 * stored Content-Length that is known at once; otherwise (streamed writes) the body is counted
 * on its way out. Only compressed variants with a known identity length pay for this.
 */
export function countingSaved(req: CacheRequest, deps: CacheDeps, entry: StoredEntry): StoredEntry {
  const identity = entry.meta.identityBytes;
  const report = deps.onCompressionSaved;
  if (!report || !entry.meta.encoded || identity === undefined || req.request.method !== "GET" || !entry.response.body) return entry;
  const stored = Number(entry.response.headers.get("content-length") ?? Number.NaN);
  if (Number.isSafeInteger(stored)) {
    report(req.tenant.id, req.route.path, identity - stored);
    return entry;
  }
  const body = countBytes(entry.response.body, (sent) => report(req.tenant.id, req.route.path, identity - sent));
  return { meta: entry.meta, response: new Response(body, entry.response) };
}

/**
 * An identity entry whose Content-Encoding the runtime applies on the way out keeps that header
 * only for a client that accepts the coding (src/compress/represent.ts `acceptableHeaders`).
 */
export function forThisClient(entry: StoredEntry, request: Request): StoredEntry {
  if (entry.meta.encoded || !entry.response.headers.has("content-encoding")) return entry;
  const headers = acceptableHeaders(new Headers(entry.response.headers), false, clientAcceptEncoding(request));
  if (headers.has("content-encoding")) return entry;
  return {
    meta: entry.meta,
    response: new Response(entry.response.body, { status: entry.response.status, statusText: entry.response.statusText, headers }),
  };
}

/**
 * A soft-purged entry is treated as stale (as Fastly's soft purge): served once more while one
 * revalidation runs, or validated first when it may never be served stale (RFC 9111 §4.2.4).
 */
export function softPurged(reuse: Reuse, noStale: boolean, purged: Verdict): Reuse {
  // The isolate holds no marks (the tenant's PurgeLog and its relay copy unreachable): the entry
  // may have been hard-purged, so it is never served unvalidated, not even on an origin error or
  // an overloaded coalescing tier; as no-cache (RFC 9111 §4.3: a 304 refreshes it, a 200 replaces it).
  if (purged === "unknown")
    return { kind: "revalidate", ttl: Math.min(reuse.ttl, -1), age: reuse.age, staleIfError: false, reason: "no-cache" };
  if (purged !== "soft" || reuse.kind === "revalidate") return reuse;
  const ttl = Math.min(reuse.ttl, -1);
  if (noStale) return { kind: "revalidate", ttl, age: reuse.age, staleIfError: false, reason: "stale" };
  return { kind: "stale-while-revalidate", ttl, age: reuse.age };
}

/**
 * After a purge, the key's Coalescer must not answer with a response it kept from before
 * (COALESCE_RECENT_MS): ask it as a request that requires validation would.
 */
export function bypassingKeptResponses(req: CacheRequest): CacheRequest {
  return { ...req, directives: { ...req.directives, noCache: true } };
}

/**
 * The tenant was purged within PURGE_KEPT_BYPASS_MS (as this isolate knows): a response a
 * Coalescer kept may predate the purge, whatever the entry. Large purges rely on this instead of
 * telling every URL's Coalescer (src/admin/purge.ts).
 */
export function recentlyPurged(req: CacheRequest, now: number): boolean {
  const lastAt = req.purge?.snapshot.lastAt ?? 0;
  return lastAt > 0 && now - lastAt < PURGE_KEPT_BYPASS_MS;
}

/** RFC 9111 §5.2.1.7: nothing usable stored for an only-if-cached request. */
export function onlyIfCachedMiss(req: CacheRequest): Response {
  const response = errorResponse("ONLY_IF_CACHED_MISS");
  tag(req.outcome, response.headers, { detail: "only-if-cached" });
  return response;
}
