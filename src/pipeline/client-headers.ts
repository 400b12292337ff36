import { TAG_HEADERS } from "../purge/rules";

/**
 * Removes, before a client sees a response, the headers that are Brim's business only: the
 * purge tags (`Cache-Tag`, `Surrogate-Key`), which would tell anyone how the tenant groups its
 * content. They stay on the origin's response until here, so the cache write reads them (and
 * records them in the entry's metadata, src/cache/fill.ts `stamped`). Brim's own responses
 * have mutable headers; anything else is copied first.
 */
export function hidePurgeTags(response: Response): Response {
  if (!TAG_HEADERS.some((name) => response.headers.has(name))) return response;
  let out = response;
  try {
    for (const name of TAG_HEADERS) out.headers.delete(name);
  } catch {
    out = new Response(response.body, response);
    for (const name of TAG_HEADERS) out.headers.delete(name);
  }
  return out;
}
