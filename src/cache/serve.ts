import { META_HEADER } from "../constants";
import { sizedBody } from "../http/body";
import { currentAge } from "../http/entry";
import { notModified, notModifiedResponse } from "../http/conditional";
import { appendCacheStatus, type CacheStatus } from "../http/cache-status";
import type { StoredEntry } from "./store";

/** Headers the Cache API or Brim put on stored copies, never shown to clients. */
const STORAGE_ONLY = [META_HEADER, "cf-cache-status", "cache-control", "expires", "vary"];

/** The entry's headers as the origin sent them (storage-only fields removed, originals restored). */
export function restoreHeaders(entry: StoredEntry): Headers {
  const headers = new Headers(entry.response.headers);
  for (const name of STORAGE_ONLY) headers.delete(name);
  const { cacheControl, expires, vary } = entry.meta.headers;
  if (cacheControl !== null) headers.set("cache-control", cacheControl);
  if (expires !== null) headers.set("expires", expires);
  if (vary !== null) headers.set("vary", vary);
  return headers;
}

/** A client response from a stored entry, with `Age` (RFC 9111 §4.2.3) and `Cache-Status`. */
export function responseFromEntry(entry: StoredEntry, status: CacheStatus, nowMs: number, headers = restoreHeaders(entry)): Response {
  headers.set("age", String(currentAge(entry.meta, nowMs)));
  appendCacheStatus(headers, status);
  return new Response(sizedBody(entry.response.body, headers, entry.meta.encoded === true), {
    status: entry.response.status,
    statusText: entry.response.statusText,
    headers,
    // Variants Brim compressed are stored as real compressed bytes; see `wire` in fill.ts.
    encodeBody: entry.meta.encoded ? "manual" : "automatic",
  });
}

/**
 * Last step for responses to cacheable GET/HEAD requests: answers the client's own
 * conditional with 304 when the 2xx response matches it (RFC 9110 §13.2.1), and drops the
 * body for HEAD.
 */
export function finalizeForClient(request: Request, response: Response): Response {
  if (response.status >= 200 && response.status < 300 && notModified(request.headers, response.headers)) {
    return notModifiedResponse(response);
  }
  if (request.method === "HEAD" && response.body) {
    void response.body.cancel();
    return new Response(null, response);
  }
  return response;
}
