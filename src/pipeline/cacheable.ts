import { clientAcceptEncoding } from "../http/accept-encoding";
import { acceptableHeaders } from "../compress/represent";
import { errorResponse } from "../errors";
import { served, tag } from "./outcome";
import type { CacheDeps, CacheRequest } from "./context";
import { countBytes, fetchForCache, originFailure, storeAndRespond } from "./fill";
import { decideReuse, type Reuse } from "../http/freshness";
import type { Verdict } from "../purge/rules";
import type { StoredEntry } from "../cache/store";
import { revalidateInBackground, revalidateThenRespond } from "./revalidate";
import { finalizeForClient } from "../cache/serve";

/**
 * The cache for one GET or HEAD on a cacheable route: look up, then serve fresh, serve stale
 * while revalidating, validate first, or fetch and store (RFC 9111 §4, RFC 5861).
 */
export async function handleCacheable(req: CacheRequest, deps: CacheDeps): Promise<Response> {
  return finalizeForClient(req.request, await lookupAndServe(withoutSharingIfNoStore(req), deps));
}

/**
 * RFC 9111 §5.2.1.5: no part of the response to a no-store request may be stored. The
 * Coalescer keeps recent responses for late arrivals, so such a request fetches for itself.
 */
function withoutSharingIfNoStore(req: CacheRequest): CacheRequest {
  if (!req.directives.noStore || req.policy.coalesce === null) return req;
  return { ...req, policy: { ...req.policy, coalesce: null } };
}

async function lookupAndServe(req: CacheRequest, deps: CacheDeps): Promise<Response> {
  const store = await deps.store();
  const found = await store.lookup(req.key.url, req.varyHeaders);
  const { varyMiss } = found;
  const entry = found.entry && forThisClient(found.entry, req.request);
  // src/purge/: a map lookup against this isolate's marks, no I/O.
  const purged = entry && req.purge ? req.purge.snapshot.verdict(entry.meta.purge) : "none";
  // RFC 9111 §3.5: a request with credentials only reuses responses marked shareable for it.
  const usable = entry !== null && purged !== "hard" && (!req.request.headers.has("authorization") || entry.meta.authOk);
  if (entry && usable) {
    const now = deps.now();
    const reuse = softPurged(decideReuse(entry.meta, req.directives, now), entry.meta.noStale, purged);
    if (purged !== "none") req = bypassingKeptResponses(req);
    switch (reuse.kind) {
      case "fresh":
        return served(req.outcome, countingSaved(req, deps, entry), { hit: true, ttl: reuse.ttl }, now);
      case "stale-ok":
        return served(req.outcome, countingSaved(req, deps, entry), { hit: true, ttl: reuse.ttl, detail: "max-stale" }, now);
      case "stale-while-revalidate":
        revalidateInBackground(req, deps);
        return served(req.outcome, countingSaved(req, deps, entry), { hit: true, ttl: reuse.ttl, detail: "stale-while-revalidate" }, now);
      case "revalidate":
        if (req.directives.onlyIfCached) {
          await entry.response.body?.cancel();
          return onlyIfCachedMiss(req);
        }
        return revalidateThenRespond(req, deps, entry, reuse);
    }
  }
  if (entry) await entry.response.body?.cancel();
  if (req.directives.onlyIfCached) return onlyIfCachedMiss(req);
  const fwd = purged === "hard" ? "miss" : entry ? "request" : varyMiss ? "vary-miss" : "uri-miss";
  const detail = purged === "hard" ? "purged" : entry ? "authorization" : undefined;
  if (purged !== "none") req = bypassingKeptResponses(req);
  const result = await fetchForCache(req, deps);
  if (!result.ok) return originFailure(req.outcome, result.error, result.collapsed ? { fwd, collapsed: true } : { fwd });
  return storeAndRespond(req, deps, result, detail ? { fwd, detail } : { fwd });
}

/**
 * A hit on a variant Brim compressed saves its identity length minus the bytes sent. With a
 * stored Content-Length that is known at once; otherwise (streamed writes) the body is counted
 * on its way out. Only compressed variants with a known identity length pay for this.
 */
function countingSaved(req: CacheRequest, deps: CacheDeps, entry: StoredEntry): StoredEntry {
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
function forThisClient(entry: StoredEntry, request: Request): StoredEntry {
  if (entry.meta.encoded || !entry.response.headers.has("content-encoding")) return entry;
  const headers = acceptableHeaders(new Headers(entry.response.headers), false, clientAcceptEncoding(request));
  if (headers.has("content-encoding")) return entry;
  return { meta: entry.meta, response: new Response(entry.response.body, { status: entry.response.status, statusText: entry.response.statusText, headers }) };
}

/**
 * A soft-purged entry is treated as stale (as Fastly's soft purge): served once more while one
 * revalidation runs, or validated first when it may never be served stale (RFC 9111 §4.2.4).
 */
function softPurged(reuse: Reuse, noStale: boolean, purged: Verdict): Reuse {
  if (purged !== "soft" || reuse.kind === "revalidate") return reuse;
  const ttl = Math.min(reuse.ttl, -1);
  if (noStale) return { kind: "revalidate", ttl, age: reuse.age, staleIfError: false, reason: "stale" };
  return { kind: "stale-while-revalidate", ttl, age: reuse.age };
}

/**
 * After a purge, the key's Coalescer must not answer with a response it kept from before
 * (COALESCE_RECENT_MS): ask it as a request that requires validation would.
 */
function bypassingKeptResponses(req: CacheRequest): CacheRequest {
  return { ...req, directives: { ...req.directives, noCache: true } };
}

/** RFC 9111 §5.2.1.7: nothing usable stored for an only-if-cached request. */
function onlyIfCachedMiss(req: CacheRequest): Response {
  const response = errorResponse("ONLY_IF_CACHED_MISS");
  tag(req.outcome, response.headers, { detail: "only-if-cached" });
  return response;
}
