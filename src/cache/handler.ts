import { errorResponse } from "../errors";
import { appendCacheStatus } from "./status";
import type { CacheDeps, CacheRequest } from "./context";
import { fetchForCache, originFailure, storeAndRespond } from "./fill";
import { decideReuse } from "./freshness";
import { revalidateInBackground, revalidateThenRespond } from "./revalidate";
import { finalizeForClient, responseFromEntry } from "./serve";

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
  const { entry, varyMiss } = await store.lookup(req.key.url, req.varyHeaders);
  // RFC 9111 §3.5: a request with credentials only reuses responses marked shareable for it.
  const usable = entry !== null && (!req.request.headers.has("authorization") || entry.meta.authOk);
  if (entry && usable) {
    const now = deps.now();
    const reuse = decideReuse(entry.meta, req.directives, now);
    switch (reuse.kind) {
      case "fresh":
        return responseFromEntry(entry, { hit: true, ttl: reuse.ttl }, now);
      case "stale-ok":
        return responseFromEntry(entry, { hit: true, ttl: reuse.ttl, detail: "max-stale" }, now);
      case "stale-while-revalidate":
        revalidateInBackground(req, deps);
        return responseFromEntry(entry, { hit: true, ttl: reuse.ttl, detail: "stale-while-revalidate" }, now);
      case "revalidate":
        if (req.directives.onlyIfCached) {
          await entry.response.body?.cancel();
          return onlyIfCachedMiss();
        }
        return revalidateThenRespond(req, deps, entry, reuse);
    }
  }
  if (entry) await entry.response.body?.cancel();
  if (req.directives.onlyIfCached) return onlyIfCachedMiss();
  const fwd = entry ? "request" : varyMiss ? "vary-miss" : "uri-miss";
  const result = await fetchForCache(req, deps);
  if (!result.ok) return originFailure(result.error, { fwd });
  return storeAndRespond(req, deps, result, entry ? { fwd, detail: "authorization" } : { fwd });
}

/** RFC 9111 §5.2.1.7: nothing usable stored for an only-if-cached request. */
function onlyIfCachedMiss(): Response {
  const response = errorResponse("ONLY_IF_CACHED_MISS");
  appendCacheStatus(response.headers, { detail: "only-if-cached" });
  return response;
}
