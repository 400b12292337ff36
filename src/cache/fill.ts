import { BrimError, errorResponse } from "../errors";
import type { CacheDeps, CacheRequest } from "./context";
import type { EntryMeta } from "./entry";
import { appendCacheStatus, type CacheStatus } from "./status";
import { analyzeResponse } from "./storability";

export { fetchForCache, type OriginResult } from "./upstream";
import type { OriginResult } from "./upstream";

/**
 * Decides whether an origin response may be stored; if so, tees the body so the client
 * streams while the copy is written in the background. Returns the client's response with
 * Cache-Status set.
 */
export function storeAndRespond(req: CacheRequest, deps: CacheDeps, result: Extract<OriginResult, { ok: true }>, status: CacheStatus): Response {
  const { response } = result;
  const analysis = analyzeResponse({
    method: "GET",
    status: response.status,
    headers: response.headers,
    requestTime: result.requestTime,
    responseTime: result.responseTime,
    policy: req.policy,
    requestHasAuthorization: req.request.headers.has("authorization"),
    requestNoStore: req.directives.noStore,
    random: deps.random(),
  });
  const headers = new Headers(response.headers);
  const base: CacheStatus = { ...status, fwdStatus: response.status, ...(result.collapsed ? { collapsed: true } : {}) };
  const detail = status.detail ?? result.detail;
  if (!analysis.storable || !result.store) {
    // Not storable, or stored by the request whose fetch this one joined.
    const why = analysis.storable ? detail : (detail ?? `not-stored-${analysis.reason}`);
    appendCacheStatus(headers, why ? { ...base, detail: why } : base);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
  appendCacheStatus(headers, { ...base, stored: true, ...(detail ? { detail } : {}) });
  const [forClient, forCache] = response.body ? response.body.tee() : [null, null];
  const cacheHeaders = new Headers(response.headers);
  for (const name of analysis.stripHeaders) cacheHeaders.delete(name);
  const copy = new Response(forCache ? limitBytes(forCache, req.policy.maxObjectBytes) : null, {
    status: response.status,
    statusText: response.statusText,
    headers: cacheHeaders,
  });
  req.waitUntil(writeEntry(req, deps, copy, analysis.meta, analysis.storageSeconds));
  return new Response(forClient, { status: response.status, statusText: response.statusText, headers });
}

/** Writes an entry; a failed or oversized write is logged and leaves no entry behind. */
export async function writeEntry(req: CacheRequest, deps: CacheDeps, response: Response, meta: EntryMeta, storageSeconds: number): Promise<void> {
  try {
    const store = await deps.store();
    await store.put(req.key.url, req.request.headers, response, meta, storageSeconds);
  } catch (error) {
    deps.log({ event: "cache-write-failed", tenant: req.tenant.id, route: req.route.path, detail: String(error) });
  }
}

/** The answer when the origin failed and nothing stale may be served. */
export function originFailure(error: BrimError, status: CacheStatus): Response {
  const response = errorResponse(error.code);
  appendCacheStatus(response.headers, { ...status, detail: error.code === "ORIGIN_TIMEOUT" ? "origin-timeout" : "origin-unreachable" });
  return response;
}

/**
 * Passes bytes through until `maxBytes`, then errors the stream so the cache write fails
 * (bodies of unknown length can still be too large to store). The client's tee branch is
 * unaffected.
 */
function limitBytes(body: ReadableStream<Uint8Array>, maxBytes: number): ReadableStream<Uint8Array> {
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) controller.error(new Error(`body exceeds maxObjectBytes (${maxBytes})`));
        else controller.enqueue(chunk);
      },
    }),
  );
}
