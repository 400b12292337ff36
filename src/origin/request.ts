import { OVERRIDE_REQUEST_HEADERS } from "../constants";
import type { Route } from "../tenant/types";
import { stripHopByHop } from "../http/headers";

/**
 * Request fields a client must not control at the origin: forwarding headers Brim sets
 * itself, and host/URL/method/address overrides some frameworks honour (classic
 * cache-poisoning inputs that would otherwise change the response without being in the key).
 */
const SPOOFABLE = OVERRIDE_REQUEST_HEADERS;
const X_FORWARDED_PREFIX = "x-forwarded-";

/** Client validators and ranges: replaced by Brim's own when it fetches to fill the cache. */
const CLIENT_CONDITIONALS = ["if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range", "range"];

export interface OriginRequestOptions {
  /** Query string to send (`""` or `"?..."`); for cacheable requests, only what is keyed. */
  readonly search: string;
  /** Drop the client's conditionals and Range (Brim fetches a full response for the cache). */
  readonly forCache: boolean;
  /** Brim's own validators when revalidating a stored entry (RFC 9111 §4.3.1). */
  readonly validators?: { readonly etag: string | null; readonly lastModified: string | null };
  /** Fetch GET even for a HEAD request (a HEAD miss fills the cache). */
  readonly method?: string;
  /**
   * For a fetch whose response may be shared: the only client headers that may reach the
   * origin (lower-case; see `sharedRequestHeaders`). Absent: every end-to-end header does.
   */
  readonly forward?: ReadonlySet<string>;
}

/** Builds the request Brim sends to the route's origin (RFC 9110 §7.6 proxy rules). */
export function buildOriginRequest(request: Request, route: Route, options: OriginRequestOptions): Request {
  const incoming = new URL(request.url);
  // The path is the request's canonical one (src/tenant/middleware.ts put it in the URL), the
  // same string the route was chosen by and the cache key was derived from.
  const target = `${route.origin}${incoming.pathname}${options.search}`;
  const headers = stripHopByHop(new Headers(request.headers));
  const forward = options.forward;
  for (const name of [...headers.keys()]) {
    if (name.startsWith(X_FORWARDED_PREFIX) || (forward && !forward.has(name))) headers.delete(name);
  }
  for (const name of SPOOFABLE) headers.delete(name);
  if (options.forCache) for (const name of CLIENT_CONDITIONALS) headers.delete(name);
  if (options.validators?.etag) headers.set("if-none-match", options.validators.etag);
  if (options.validators?.lastModified) headers.set("if-modified-since", options.validators.lastModified);

  const clientIp = request.headers.get("cf-connecting-ip");
  if (clientIp) headers.set("x-forwarded-for", clientIp);
  headers.set("x-forwarded-proto", incoming.protocol.slice(0, -1));
  const host = request.headers.get("host") ?? incoming.host;
  headers.set("x-forwarded-host", host);
  // fetch() derives Host from the target URL; setting it keeps the client's Host instead.
  if (route.preserveHost) headers.set("host", host);
  else headers.delete("host");

  const method = options.method ?? request.method;
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(target, {
    method,
    headers,
    body: hasBody ? request.body : null,
    redirect: "manual",
  });
}
