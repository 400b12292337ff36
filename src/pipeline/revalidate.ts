import { REVALIDATION_LOCK_SLACK_MS } from "../constants";
import type { CacheDeps, CacheRequest } from "./context";
import { remainingFreshness, type EntryMeta } from "../http/entry";
import { analyzeFor, fetchForCache, originFailure, storeAndRespond, writeEntry, type OriginResult } from "./fill";
import type { Reuse } from "../http/freshness";
import { restoreHeaders } from "../cache/serve";
import { served } from "./outcome";
import { rangeOfResponse } from "./range";
import { newOutcome } from "../env";
import type { ForwardReason } from "../http/cache-status";
import type { StoredEntry } from "../cache/store";

/** RFC 5861 §4: the failures that allow stale-if-error (plus timeouts and network errors). */
const ERROR_STATUSES = new Set([500, 502, 503, 504]);

/** Fields a 304 must not overwrite in the stored entry (RFC 9111 §3.2). */
const NOT_UPDATED = ["content-length", "content-encoding", "content-range", "transfer-encoding"];
const NEGOTIATED_NOT_UPDATED = [...NOT_UPDATED, "etag", "vary"];

/**
 * Validates a stale (or no-cache) entry with the origin before answering (RFC 9111 §4.3).
 * A 304 refreshes the stored entry; a failure serves the entry if stale-if-error allows it.
 */
export async function revalidateThenRespond(
  req: CacheRequest,
  deps: CacheDeps,
  entry: StoredEntry,
  reuse: Extract<Reuse, { kind: "revalidate" }>,
): Promise<Response> {
  // RFC 9211 §2.2: `request` when the entry was fresh but the request's directives did not
  // allow its use; `stale` otherwise (stale, or a no-cache response, which is never fresh).
  const fwd = reuse.reason === "request" && reuse.ttl > 0 ? "request" : "stale";
  // RFC 5861-like: when the coalescing tiers are overloaded or unreachable, a stale entry that
  // could be served without validation (not no-cache / must-revalidate, not a client demanding
  // validation) answers instead of the origin (docs/coalescing.md "Overload").
  const staleOk = reuse.reason === "stale" && !entry.meta.noStale && !entry.meta.noCache && !req.directives.noCache;
  const result = await fetchForCache(req, deps, validatorsOf(entry), "fetch", staleOk);
  if (!result.ok) {
    if (staleOk && result.error.code === "COALESCE_UNAVAILABLE")
      return served(req, entry, { fwd, ttl: reuse.ttl, detail: "coalesce-unavailable" }, deps.now());
    if (reuse.staleIfError) return served(req, entry, { fwd, ttl: reuse.ttl, detail: "stale-if-error" }, deps.now());
    await entry.response.body?.cancel();
    return originFailure(req.outcome, result.error, result.collapsed ? { fwd, collapsed: true } : { fwd });
  }
  const { response } = result;
  if (response.status === 304) return refreshFrom304(req, deps, entry, result, fwd);
  if (ERROR_STATUSES.has(response.status) && reuse.staleIfError) {
    await response.body?.cancel();
    return served(req, entry, { fwd, fwdStatus: response.status, ttl: reuse.ttl, detail: "stale-if-error" }, deps.now());
  }
  await entry.response.body?.cancel();
  return rangeOfResponse(req.request, storeAndRespond(req, deps, result, { fwd }));
}

/**
 * The stale-while-revalidate refresh (RFC 5861 §3), run under `waitUntil` while the client
 * already has the stale entry. At most one per key per isolate at a time; failures keep the
 * stale entry in place.
 */
export function revalidateInBackground(client: CacheRequest, deps: CacheDeps): void {
  // The client's outcome is already decided (a stale hit): the refresh records its own.
  const req: CacheRequest = { ...client, outcome: newOutcome() };
  const holdMs = req.route.timeoutMs + REVALIDATION_LOCK_SLACK_MS;
  if (!deps.locks.tryAcquire(req.key.url, deps.now(), holdMs)) return;
  req.waitUntil(
    (async () => {
      try {
        const store = await deps.store();
        // The shared copy, not this isolate's memory one: another isolate may have refreshed it.
        const { entry } = await store.lookup(req.key.url, req.varyHeaders, { memory: false });
        const result = await fetchForCache(req, deps, entry ? validatorsOf(entry) : undefined, "background");
        if (result === null) {
          // Another isolate or location is already refreshing this key (or just did).
          await entry?.response.body?.cancel();
          return;
        }
        if (!result.ok) {
          await entry?.response.body?.cancel();
          return;
        }
        if (result.response.status === 304 && entry) {
          await refreshFrom304(req, deps, entry, result, null);
          return;
        }
        await entry?.response.body?.cancel();
        if (ERROR_STATUSES.has(result.response.status)) {
          await result.response.body?.cancel();
          return;
        }
        // Storing happens through the tee's cache branch; the client branch is drained here.
        const response = storeAndRespond(req, deps, result, { fwd: "stale" });
        await response.body?.pipeTo(new WritableStream());
      } catch (error) {
        deps.log({ event: "revalidation-failed", tenant: req.tenant.id, route: req.route.path, detail: String(error) });
      } finally {
        deps.locks.release(req.key.url);
      }
    })(),
  );
}

/**
 * Applies a 304 to a stored entry (RFC 9111 §4.3.4): the stored headers are updated with the
 * 304's, freshness is recomputed, and the entry is written back with its old body. With
 * `respondAs` (the Cache-Status forward reason), the updated entry is also returned to the
 * client; with null (a background refresh) the write is awaited instead.
 */
async function refreshFrom304(
  req: CacheRequest,
  deps: CacheDeps,
  entry: StoredEntry,
  result: Extract<OriginResult, { ok: true }>,
  respondAs: ForwardReason,
): Promise<Response>;
async function refreshFrom304(
  req: CacheRequest,
  deps: CacheDeps,
  entry: StoredEntry,
  result: Extract<OriginResult, { ok: true }>,
  respondAs: null,
): Promise<void>;
async function refreshFrom304(
  req: CacheRequest,
  deps: CacheDeps,
  entry: StoredEntry,
  result: Extract<OriginResult, { ok: true }>,
  respondAs: ForwardReason | null,
): Promise<Response | void> {
  const headers = restoreHeaders(entry);
  // A variant Brim made keeps its own representation fields: the origin's 304 describes the
  // identity representation (its strong ETag, its Vary without Accept-Encoding).
  const keep = entry.meta.negotiated ? NEGOTIATED_NOT_UPDATED : NOT_UPDATED;
  result.response.headers.forEach((value, name) => {
    if (!keep.includes(name)) headers.set(name, value);
  });
  const analysis = analyzeFor(req, deps, entry.response.status, headers, result);
  const body = entry.response.body;
  const [forClient, forCache] = body && respondAs ? body.tee() : [respondAs ? body : null, respondAs ? null : body];
  if (analysis.storable) {
    // The 304 may carry fields named by a qualified private / no-cache: never store those.
    const cacheHeaders = new Headers(headers);
    for (const name of analysis.stripHeaders) cacheHeaders.delete(name);
    const copy = new Response(forCache, { status: entry.response.status, statusText: entry.response.statusText, headers: cacheHeaders });
    const meta = keepRepresentation(analysis.meta, entry.meta);
    const write = writeEntry(req, deps, copy, meta, analysis.storageSeconds);
    if (respondAs) req.waitUntil(write);
    else await write;
  } else {
    await forCache?.cancel();
    req.waitUntil(deps.store().then((store) => store.delete(req.key.url)));
  }
  if (!respondAs) return;
  const refreshed: StoredEntry = analysis.storable
    ? { response: new Response(forClient, entry.response), meta: keepRepresentation(analysis.meta, entry.meta) }
    : { response: new Response(forClient, entry.response), meta: entry.meta };
  const now = deps.now();
  return served(
    req,
    refreshed,
    { fwd: respondAs, fwdStatus: 304, ttl: remainingFreshness(refreshed.meta, now) },
    now,
    new Headers(headers),
  );
}

/** A 304 refreshes freshness; what Brim made of the body (coding, original size) stays. */
function keepRepresentation(fresh: EntryMeta, stored: EntryMeta): EntryMeta {
  const { encoded, negotiated, identityBytes, recompressed } = stored;
  return {
    ...fresh,
    ...(encoded !== undefined ? { encoded } : {}),
    ...(negotiated !== undefined ? { negotiated } : {}),
    ...(identityBytes !== undefined ? { identityBytes } : {}),
    ...(recompressed !== undefined ? { recompressed } : {}),
  };
}

function validatorsOf(entry: StoredEntry): { etag: string | null; lastModified: string | null } {
  return { etag: entry.response.headers.get("etag"), lastModified: entry.response.headers.get("last-modified") };
}
