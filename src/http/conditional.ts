import { parseHttpDate } from "./http-date";

/**
 * Whether a client's conditional GET/HEAD is satisfied by the response about to be sent, so
 * a 304 can answer it instead (RFC 9110 §13.2.2): If-None-Match first, with weak comparison;
 * If-Modified-Since only when If-None-Match is absent.
 */
export function notModified(request: Headers, response: Headers): boolean {
  const inm = request.get("if-none-match");
  if (inm !== null) {
    const etag = response.get("etag");
    if (etag === null) return false;
    if (inm.trim() === "*") return true;
    const mine = opaque(etag);
    return inm.split(",").some((candidate) => opaque(candidate.trim()) === mine);
  }
  const ims = parseHttpDate(request.get("if-modified-since"));
  const lastModified = parseHttpDate(response.get("last-modified"));
  return ims !== null && lastModified !== null && lastModified <= ims;
}

/** Weak comparison (RFC 9110 §8.8.3.2): the opaque tag without the `W/` prefix. */
function opaque(tag: string): string {
  return tag.startsWith("W/") ? tag.slice(2) : tag;
}

/** Headers a 304 carries (RFC 9110 §15.4.5) plus the ones Brim adds. */
const NOT_MODIFIED_HEADERS = [
  "cache-control",
  "content-location",
  "date",
  "etag",
  "expires",
  "vary",
  "last-modified",
  "age",
  "cache-status",
];

export function notModifiedResponse(from: Response): Response {
  const headers = new Headers();
  for (const name of NOT_MODIFIED_HEADERS) {
    const value = from.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  void from.body?.cancel();
  return new Response(null, { status: 304, headers });
}
