import { BrimError, errorResponse, type OriginErrorCode } from "../errors";
import type { CacheDeps, CacheRequest } from "./context";
import type { EntryMeta } from "../http/entry";
import type { CacheStatus } from "../http/cache-status";
import type { RequestOutcome } from "../env";
import { tag } from "./outcome";
import { analyzeResponse, type Storability } from "../http/storability";
import { acceptableHeaders, decodedForStore, represent } from "../compress/represent";
import { PURGE_MAX_TAG_BYTES, PURGE_MAX_TAGS_PER_ENTRY } from "../constants";
import { responseTags } from "../purge/rules";

export { fetchForCache, type OriginResult } from "./upstream";
import { faultLogger, logOriginError, type OriginResult } from "./upstream";
import { clientAcceptEncoding } from "../http/accept-encoding";
import { acceptsAll } from "../compress/decode";
import { sizedBody } from "../http/body";
import { identityCapture, RECOMPRESSED_CODINGS } from "../compress/recompress";
import { recompressAfter } from "./recompress";

/**
 * Decides whether an origin response may be stored; if so, tees the body so the client
 * streams while the copy is written in the background. Returns the client's response with
 * Cache-Status set.
 */
export function storeAndRespond(
  req: CacheRequest,
  deps: CacheDeps,
  result: Extract<OriginResult, { ok: true }>,
  status: CacheStatus,
): Response {
  const limits = { maxBytes: req.policy.maxObjectBytes, onFault: faultLogger(req, deps) };
  // The identity bytes for the background high-quality pass (src/pipeline/recompress.ts), when
  // this request stores. It sees bytes only if represent() compresses; otherwise it holds nothing.
  const capture =
    result.store && deps.recompress && req.coding !== null && RECOMPRESSED_CODINGS.has(req.coding)
      ? identityCapture(deps.recompress.maxBytes)
      : null;
  const shaped =
    req.coding === null || req.route.compression === null
      ? decodedForStore(result.response, limits)
      : represent(result.response, {
          chosen: req.coding,
          policy: req.route.compression,
          limits,
          ...(capture ? { tap: () => capture.stream } : {}),
        });
  const base: CacheStatus = { ...status, fwdStatus: result.response.status, ...(result.collapsed ? { collapsed: true } : {}) };
  if (shaped.kind === "opaque")
    return answerOpaque(req.outcome, req.request, result.response, shaped.codings, { ...base, detail: "not-stored-encoding" }, (error) =>
      logOriginError(req, deps, error),
    );
  const { response } = shaped;
  const analysis = analyzeFor(req, deps, response.status, response.headers, result);
  const headers = acceptableHeaders(new Headers(response.headers), shaped.encoded, clientAcceptEncoding(req.request));
  const detail = status.detail ?? result.detail;
  if (!analysis.storable || !result.store) {
    capture?.discard();
    // Not storable, or stored by the request whose fetch this one joined.
    const why = analysis.storable ? detail : (detail ?? `not-stored-${analysis.reason}`);
    tag(req.outcome, headers, why ? { ...base, detail: why } : base);
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers,
      encodeBody: wire(shaped.encoded),
    });
  }
  tag(req.outcome, headers, { ...base, stored: true, ...(detail ? { detail } : {}) });
  // The cache branch is read into memory and committed only if the body ends cleanly
  // (CacheStore.put); an origin fault errors both branches, so the client's transfer fails too.
  const [forClient, forCache] = response.body ? response.body.tee() : [null, null];
  const cacheHeaders = new Headers(response.headers);
  for (const name of analysis.stripHeaders) cacheHeaders.delete(name);
  const copy = new Response(forCache, {
    status: response.status,
    statusText: response.statusText,
    headers: cacheHeaders,
  });
  const identityBytes = shaped.encoded ? identityLength(result.response) : null;
  const meta =
    shaped.negotiated || shaped.encoded
      ? { ...analysis.meta, encoded: shaped.encoded, negotiated: shaped.negotiated, ...(identityBytes !== null ? { identityBytes } : {}) }
      : analysis.meta;
  const written = writeEntry(req, deps, copy, meta, analysis.storageSeconds);
  req.waitUntil(
    capture && req.coding !== null ? recompressAfter(req, deps, written, capture, req.coding, analysis.storageSeconds) : written,
  );
  const counted =
    forClient && identityBytes !== null && deps.onCompressionSaved
      ? countBytes(forClient, (sent) => deps.onCompressionSaved?.(req.tenant.id, req.route.path, identityBytes - sent))
      : forClient;
  return new Response(sizedBody(counted, headers, shaped.encoded), {
    status: response.status,
    statusText: response.statusText,
    headers,
    encodeBody: wire(shaped.encoded),
  });
}

/**
 * An origin coding Brim cannot decode: never stored; the bytes go as they are to a client that
 * accepts every listed coding, and any other client gets `502` (RFC 9110 §12.5.3).
 */
export function answerOpaque(
  outcome: RequestOutcome,
  request: Request,
  response: Response,
  codings: readonly string[],
  status: CacheStatus,
  logError: (error: BrimError<OriginErrorCode>) => void,
): Response {
  if (acceptsAll(clientAcceptEncoding(request), codings)) {
    const headers = new Headers(response.headers);
    tag(outcome, headers, status);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers, encodeBody: "manual" });
  }
  void response.body?.cancel();
  const error = new BrimError(
    "ORIGIN_UNSUPPORTED_ENCODING",
    `Content-Encoding ${codings.join(", ")} is neither accepted by the client nor decodable`,
  );
  logError(error);
  return originFailure(outcome, error, status);
}

/** The origin's identity body length, if it sent one (a runtime-decoded body's length is not). */
function identityLength(origin: Response): number | null {
  if (origin.headers.has("content-encoding")) return null;
  const value = origin.headers.get("content-length");
  const n = value === null ? Number.NaN : Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** Passes bytes through, reporting how many once they are all through. */
export function countBytes(body: ReadableStream<Uint8Array>, report: (bytes: number) => void): ReadableStream<Uint8Array> {
  let sent = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
      flush() {
        report(sent);
      },
    }),
  );
}

/**
 * Bytes Brim compressed are sent as they are ("manual"). Otherwise "automatic": a body the
 * runtime decoded (gzip/br from the origin) is encoded again on the way out, as its header says.
 */
export function wire(encoded: boolean | undefined): "manual" | "automatic" {
  return encoded ? "manual" : "automatic";
}

/**
 * Writes an entry; a failed or oversized write is logged and leaves no entry behind. Resolves
 * with the metadata as committed, or null when nothing was.
 */
export async function writeEntry(
  req: CacheRequest,
  deps: CacheDeps,
  response: Response,
  meta: EntryMeta,
  storageSeconds: number,
): Promise<EntryMeta | null> {
  try {
    const store = await deps.store();
    return await store.put(req.key.url, req.varyHeaders, response, stamped(req, response, meta), storageSeconds, req.policy.maxObjectBytes);
  } catch (error) {
    deps.log({ event: "cache-write-failed", tenant: req.tenant.id, route: req.route.path, detail: String(error) });
    return null;
  }
}

/**
 * Records what purges match: the purge generation this request began with (so a purge that
 * lands while it fetches still covers what it stores), the URL, and the origin's tags.
 */
function stamped(req: CacheRequest, response: Response, meta: EntryMeta): EntryMeta {
  if (!req.purge) return meta;
  const tags = responseTags(response.headers, PURGE_MAX_TAGS_PER_ENTRY, PURGE_MAX_TAG_BYTES);
  return { ...meta, purge: { gen: req.purge.gen, url: req.purge.url, ...(tags.length > 0 ? { tags } : {}) } };
}

/** Storability (RFC 9111 §3) of a response fetched for `req`, timed by `times`. */
export function analyzeFor(
  req: CacheRequest,
  deps: CacheDeps,
  status: number,
  headers: Headers,
  times: { requestTime: number; responseTime: number },
): Storability {
  return analyzeResponse({
    method: "GET",
    status,
    headers,
    requestTime: times.requestTime,
    responseTime: times.responseTime,
    policy: req.policy,
    requestHasAuthorization: req.request.headers.has("authorization"),
    requestNoStore: req.directives.noStore,
    random: deps.random(),
  });
}

/** The answer when the origin failed and nothing stale may be served. */
export function originFailure(outcome: RequestOutcome, error: BrimError<OriginErrorCode>, status: CacheStatus): Response {
  const response = errorResponse(error.code);
  tag(outcome, response.headers, { ...status, detail: failureDetail(error.code) });
  // RFC 9110 §10.2.3: the coalescing tiers are expected back shortly.
  if (error.code === "COALESCE_UNAVAILABLE") response.headers.set("retry-after", "1");
  return response;
}

/** The Cache-Status detail for an origin failure. */
export function failureDetail(code: OriginErrorCode): string {
  switch (code) {
    case "ORIGIN_TIMEOUT":
      return "origin-timeout";
    case "ORIGIN_INVALID_RESPONSE":
      return "origin-invalid-response";
    case "ORIGIN_UNSUPPORTED_ENCODING":
      return "origin-encoding";
    case "ORIGIN_UNREACHABLE":
      return "origin-unreachable";
    case "COALESCE_UNAVAILABLE":
      return "coalesce-unavailable";
  }
  const unhandled: never = code;
  return unhandled;
}
