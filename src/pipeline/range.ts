import type { StoredEntry } from "../cache/store";
import { declaredLength } from "../http/body";
import { notModified } from "../http/conditional";
import { contentRange, evaluateRange, sliceBody, unsatisfiedRange, type ByteRange } from "../http/range";
import type { CacheRequest } from "./context";

/**
 * Range requests on cacheable routes (RFC 9110 §14), answered by slicing a whole response:
 * a stored entry on a hit, or the origin's full response while it streams into the cache on a
 * miss (Brim's origin request never carries the client's Range, src/origin/request.ts). The
 * rules are in src/http/range.ts; this file applies them to responses.
 *
 * Ranges apply to the bytes as sent. A response with Content-Encoding is never sliced (the full
 * 200 goes out, as §14.2 allows): a variant Brim compressed has only a weak ETag and is not
 * byte-for-byte reproducible across refills, so its parts could not be combined safely
 * (§15.3.7.3), and an identity entry the runtime encodes on the way out has no stable encoded
 * length at all. The client's own conditional comes first (§13.2.2): a request that will be
 * answered 304 is not sliced.
 */

/** Fields a 416 keeps from the full response it replaces (no representation data). */
const KEPT_ON_416 = ["date", "etag", "last-modified", "age", "cache-status", "vary", "content-location"];

/** The answer to the request's Range from a stored entry about to be served whole. */
export function rangeOfEntry(request: Request, response: Response, entry: StoredEntry): Response {
  return ranged(request, response, entry.meta.body?.bytes ?? null, entry.range ?? null);
}

/**
 * The answer to the request's Range from an origin response being stored as it streams. Its
 * length is its Content-Length; without one (chunked) the full 200 goes out.
 */
export function rangeOfResponse(request: Request, response: Response): Response {
  return ranged(request, response, declaredLength(response.headers), null);
}

/**
 * Whether a Range miss's full response declares more than the route's maxObjectBytes: it will
 * not be stored, so reading it whole to slice it would be waste; the client's own Range goes
 * to the origin instead, as for an uncached route.
 */
export function tooLargeToFill(req: CacheRequest, response: Response): boolean {
  if (req.request.method !== "GET" || !req.request.headers.has("range") || response.status !== 200) return false;
  const length = declaredLength(response.headers);
  return length !== null && length > req.policy.maxObjectBytes;
}

function ranged(
  request: Request,
  response: Response,
  length: number | null,
  segments: ((start: number, end: number) => ReadableStream<Uint8Array>) | null,
): Response {
  const range = request.headers.get("range");
  if (range === null || length === null || response.headers.has("content-encoding") || notModified(request.headers, response.headers))
    return response;
  const answer = evaluateRange({
    method: request.method,
    status: response.status,
    range,
    ifRange: request.headers.get("if-range"),
    etag: response.headers.get("etag"),
    lastModified: response.headers.get("last-modified"),
    date: response.headers.get("date"),
    length,
  });
  switch (answer.kind) {
    case "full":
      return response;
    case "partial":
      return partial(response, answer.range, length, segments);
    case "unsatisfiable":
      return unsatisfiable(response, length);
  }
}

/** RFC 9110 §15.3.7: one part, with its Content-Range and length. */
function partial(
  response: Response,
  range: ByteRange,
  length: number,
  segments: ((start: number, end: number) => ReadableStream<Uint8Array>) | null,
): Response {
  const headers = new Headers(response.headers);
  headers.set("content-range", contentRange(range, length));
  headers.set("content-length", String(range.end - range.start + 1));
  // A segmented entry reads only the segments the range needs; its whole body stays unread.
  const body = segments ? segments(range.start, range.end) : response.body && sliceBody(response.body, range.start, range.end);
  return new Response(body, { status: 206, headers });
}

/** RFC 9110 §15.5.17: nothing of the representation, only its length. */
function unsatisfiable(response: Response, length: number): Response {
  void response.body?.cancel();
  const headers = new Headers();
  for (const name of KEPT_ON_416) {
    const value = response.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  headers.set("content-range", unsatisfiedRange(length));
  return new Response(null, { status: 416, headers });
}
