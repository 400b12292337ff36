/**
 * The request path, in order. Steps 1–3 are middleware in src/app.ts; this handler is the rest.
 *
 *  1. tenant, route and the one canonical path — src/tenant/ (400 / 421 / 404)
 *  2. auth — src/auth/ (401 / 403 / 503); sets the claims the key may include
 *  3. outcome and stats — src/stats/ reads what the steps below record (src/env.ts)
 *  4. bypass? — a WebSocket handshake on a `websocket` route (src/pipeline/websocket.ts);
 *     uncached route, unsafe method, credentials, Cookie → proxy to the origin (src/origin/)
 *     and invalidate what an unsafe method changed (a Range GET is served from the cache)
 *  5. key, directives, purge marks — src/cache/key.ts, src/purge/
 *  6. lookup — ./lookup.ts, src/cache/store.ts (memory tier, then one Cache API read; whole
 *     entries only), purge verdict, reuse decision
 *     (src/http/freshness.ts): fresh → hit; stale → stale-while-revalidate or validate first
 *  7. miss → one origin fetch per key — src/coalesce/ (the key's Durable Object) → src/origin/
 *  8. represent — src/compress/ (pass through, decode within limits, or compress as negotiated)
 *  9. store and respond — src/cache/store.ts commits the body only once it ended cleanly,
 *     while the client streams; then the client's conditional (304), Range (206 / 416,
 *     ./range.ts: sliced from the whole response, never fetched in parts) and HEAD.
 */
import type { Handler } from "hono";
import type { CacheStatus } from "../http/cache-status";
import { finalizeForClient } from "../cache/serve";
import type { AppEnv } from "../env";
import { clientAcceptEncoding, negotiateEncoding } from "../http/accept-encoding";
import { isWebSocketUpgrade } from "../http/upgrade";
import type { TenantResolver } from "../tenant/match";
import { bypassStatus } from "./bypass";
import { hidePurgeTags } from "./client-headers";
import type { CacheDeps, CacheRequest } from "./context";
import { fetchForCache, originFailure, storeAndRespond } from "./fill";
import { served } from "./outcome";
import { proxyToOrigin } from "./proxy";
import { proxyWebSocket } from "./websocket";
import { rangeOfResponse, tooLargeToFill } from "./range";
import { cacheRequestFor } from "./request";
import { lookUp } from "./lookup";
import { bypassingKeptResponses, countingSaved, onlyIfCachedMiss, recentlyPurged } from "./reuse";
import { revalidateInBackground, revalidateThenRespond } from "./revalidate";

export interface EdgeCacheOptions {
  readonly deps: CacheDeps;
  /** Used to find the route (and so the key policy) of Location targets to invalidate. */
  readonly resolver: TenantResolver;
}

/** Steps 4–9 for one request whose tenant, route and auth are settled. */
export function edgeCache({ deps, resolver }: EdgeCacheOptions): Handler<AppEnv> {
  return async function edgeCache(c) {
    const { route } = c.var;
    const request = c.req.raw;
    const coding = route.compression ? negotiateEncoding(clientAcceptEncoding(request), route.compression.encodings) : null;
    // From src/auth/: claim values for the key (never the token), or "bypass" when the origin
    // sees a credential this cache cannot account for.
    const auth = c.var.auth?.cache;
    const identity = auth === "bypass" ? undefined : auth;
    // A WebSocket handshake on a route that allows them: never cached (elsewhere `Upgrade` is
    // a hop-by-hop field the origin never sees, RFC 9110 §7.8, and the request is plain HTTP).
    if (route.websocket && isWebSocketUpgrade(request)) return proxyWebSocket(c, deps);
    // 4. Does the cache handle it?
    const bypass = bypassStatus(request, route.cache, auth);
    if (bypass || !route.cache) return hidePurgeTags(await proxyToOrigin(c, deps, resolver, coding, bypass ?? { fwd: "bypass" }, identity));
    // 5.
    const req = await cacheRequestFor(c, deps, route.cache, coding, identity);
    // A Range miss for an object too large to store: the client's Range goes to the origin.
    const forwardRange = (status: CacheStatus) => proxyToOrigin(c, deps, resolver, coding, status, identity);
    // 6–9.
    return hidePurgeTags(finalizeForClient(request, await lookupAndServe(req, deps, forwardRange)));
  };
}

/** Steps 6–9 (RFC 9111 §4, RFC 5861). */
async function lookupAndServe(
  req: CacheRequest,
  deps: CacheDeps,
  forwardRange: (status: CacheStatus) => Promise<Response>,
): Promise<Response> {
  // 6. Lookup: only whole entries come back (src/cache/store.ts); memory copies only when fresh.
  const { entry, varyMiss, purged, usable, reuse, now } = await lookUp(req, deps);
  if (entry && usable && reuse) {
    if (purged !== "none") req = bypassingKeptResponses(req);
    switch (reuse.kind) {
      case "fresh":
        return served(req, countingSaved(req, deps, entry), { hit: true, ttl: reuse.ttl }, now);
      case "stale-ok":
        return served(req, countingSaved(req, deps, entry), { hit: true, ttl: reuse.ttl, detail: "max-stale" }, now);
      case "stale-while-revalidate":
        revalidateInBackground(req, deps);
        return served(req, countingSaved(req, deps, entry), { hit: true, ttl: reuse.ttl, detail: "stale-while-revalidate" }, now);
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
  if (purged !== "none" || recentlyPurged(req, now)) req = bypassingKeptResponses(req);
  // 7. One origin fetch per key (the key's Coalescer, else a direct fetch).
  const result = await fetchForCache(req, deps);
  if (!result.ok) return originFailure(req.outcome, result.error, result.collapsed ? { fwd, collapsed: true } : { fwd });
  if (tooLargeToFill(req, result.response)) {
    await result.response.body?.cancel();
    return forwardRange({ fwd, detail: "not-stored-too-large" });
  }
  // 8–9. Represent for this client, store once complete, respond while streaming (a Range
  // request gets its part of the bytes as they stream).
  return rangeOfResponse(req.request, storeAndRespond(req, deps, result, detail ? { fwd, detail } : { fwd }));
}
