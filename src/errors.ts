/**
 * One error vocabulary. Every failure Brim answers itself has a stable code, one status and a
 * short public body; the detail goes to the log, never to the client.
 */

export type BrimErrorCode =
  | "UNKNOWN_HOST"
  | "BAD_HOST"
  | "AMBIGUOUS_PATH"
  | "NO_ROUTE"
  | "NOT_CONFIGURED"
  | "CONFIG_UNAVAILABLE"
  | "ORIGIN_UNREACHABLE"
  | "ORIGIN_TIMEOUT"
  | "ORIGIN_INVALID_RESPONSE"
  | "ORIGIN_UNSUPPORTED_ENCODING"
  | "COALESCE_UNAVAILABLE"
  | "METHOD_NOT_SUPPORTED"
  | "INTERNAL"
  | "ONLY_IF_CACHED_MISS"
  | "AUTH_REQUIRED"
  | "AUTH_INVALID_REQUEST"
  | "AUTH_INVALID_TOKEN"
  | "AUTH_INSUFFICIENT_SCOPE"
  | "AUTH_UNAVAILABLE"
  | "ADMIN_UNAUTHORIZED"
  | "ADMIN_BAD_REQUEST"
  | "ADMIN_BODY_TOO_LARGE"
  | "ADMIN_NOT_FOUND"
  | "ADMIN_METHOD_NOT_ALLOWED"
  | "ADMIN_NOT_CONFIGURED"
  | "PLATFORM_UNAUTHORIZED"
  | "PLATFORM_NOT_CONFIGURED"
  | "PLATFORM_NOT_FOUND"
  | "CONFIG_INVALID";

/**
 * The ways getting an origin response can fail a request (answered 502 / 503 / 504).
 * `COALESCE_UNAVAILABLE`: the coalescing tiers could not be reached and nothing stale could be
 * served; Brim refuses rather than let every such request fetch the origin (docs/coalescing.md).
 */
export type OriginErrorCode =
  "ORIGIN_UNREACHABLE" | "ORIGIN_TIMEOUT" | "ORIGIN_INVALID_RESPONSE" | "ORIGIN_UNSUPPORTED_ENCODING" | "COALESCE_UNAVAILABLE";
const ORIGIN_ERROR_CODES: ReadonlySet<string> = new Set<OriginErrorCode>([
  "ORIGIN_UNREACHABLE",
  "ORIGIN_TIMEOUT",
  "ORIGIN_INVALID_RESPONSE",
  "ORIGIN_UNSUPPORTED_ENCODING",
  "COALESCE_UNAVAILABLE",
]);

/** An origin error code from the wire (the Coalescer's answer); anything else is "unreachable". */
export function originErrorCode(value: string | null): OriginErrorCode {
  return value !== null && ORIGIN_ERROR_CODES.has(value) ? (value as OriginErrorCode) : "ORIGIN_UNREACHABLE";
}

interface ErrorShape {
  readonly status: number;
  readonly body: string;
}

const ERRORS: Record<BrimErrorCode, ErrorShape> = {
  UNKNOWN_HOST: { status: 421, body: "Misdirected Request: no site is configured for this host\n" },
  // RFC 9112 §3.2: a Host that is not `uri-host [":" port]` is a bad request, not a misdirected one.
  BAD_HOST: { status: 400, body: "Bad Request: the Host header is not a valid host\n" },
  // The reason (encoded slash, dot segment, ...) is logged; see src/http/path.ts.
  AMBIGUOUS_PATH: { status: 400, body: "Bad Request: the path is ambiguous (encoded separators, dot or empty segments, or parameters)\n" },
  NO_ROUTE: { status: 404, body: "Not Found: no route matches this path\n" },
  NOT_CONFIGURED: { status: 503, body: "Service Unavailable: the proxy is not configured\n" },
  // The config store's edge copy did not answer for a host this isolate had not seen yet.
  CONFIG_UNAVAILABLE: { status: 503, body: "Service Unavailable: the proxy's configuration could not be read; retry shortly\n" },
  ORIGIN_UNREACHABLE: { status: 502, body: "Bad Gateway: the origin could not be reached\n" },
  ORIGIN_TIMEOUT: { status: 504, body: "Gateway Timeout: the origin did not answer in time\n" },
  // An answer that does not fit the request (a 304 to an unconditional GET).
  ORIGIN_INVALID_RESPONSE: { status: 502, body: "Bad Gateway: the origin sent an invalid response\n" },
  // A Content-Encoding the client does not accept and Brim cannot decode (RFC 9110 §8.4).
  ORIGIN_UNSUPPORTED_ENCODING: { status: 502, body: "Bad Gateway: the origin's content coding is not acceptable\n" },
  // The coalescing Durable Objects failed and no stale entry could answer (docs/coalescing.md).
  COALESCE_UNAVAILABLE: { status: 503, body: "Service Unavailable: the response is being fetched; retry shortly\n" },
  // CONNECT (and TRACE/TRACK, which the runtime forbids): a reverse proxy does not tunnel.
  METHOD_NOT_SUPPORTED: { status: 501, body: "Not Implemented: this method is not supported\n" },
  // Brim's own bug, never the origin's: logged with its stack.
  INTERNAL: { status: 500, body: "Internal Server Error\n" },
  // RFC 9111 §5.2.1.7: only-if-cached with nothing usable stored.
  ONLY_IF_CACHED_MISS: { status: 504, body: "Gateway Timeout: not in cache (only-if-cached)\n" },
  // RFC 6750 §3: the reason (expired, bad signature, revoked, ...) is logged, never sent.
  AUTH_REQUIRED: { status: 401, body: "Unauthorized: a bearer token is required\n" },
  // RFC 6750 §3.1 invalid_request: a token in the query, or more than one credential.
  AUTH_INVALID_REQUEST: { status: 400, body: "Bad Request: send exactly one bearer token, and never in the URL\n" },
  AUTH_INVALID_TOKEN: { status: 401, body: "Unauthorized: the token is not valid\n" },
  AUTH_INSUFFICIENT_SCOPE: { status: 403, body: "Forbidden: the token lacks a required scope\n" },
  AUTH_UNAVAILABLE: { status: 503, body: "Service Unavailable: tokens cannot be checked right now\n" },
  ADMIN_UNAUTHORIZED: { status: 401, body: "Unauthorized: a valid admin token is required\n" },
  ADMIN_BAD_REQUEST: { status: 400, body: "Bad Request: the admin request is malformed\n" },
  ADMIN_BODY_TOO_LARGE: { status: 413, body: "Content Too Large: the admin request body is too large\n" },
  ADMIN_NOT_FOUND: { status: 404, body: "Not Found: no such admin endpoint for this tenant\n" },
  ADMIN_METHOD_NOT_ALLOWED: { status: 405, body: "Method Not Allowed\n" },
  // The tenant's config names an admin token secret the Worker does not have (logged, and in
  // `GET /__brim/platform/config`): unavailable, not a silent 401.
  ADMIN_NOT_CONFIGURED: { status: 503, body: "Service Unavailable: this tenant's admin token is not configured\n" },
  PLATFORM_UNAUTHORIZED: { status: 401, body: "Unauthorized: a valid platform token is required\n" },
  // The Worker secret BRIM_PLATFORM_TOKEN is not set.
  PLATFORM_NOT_CONFIGURED: { status: 503, body: "Service Unavailable: the platform API has no token configured\n" },
  PLATFORM_NOT_FOUND: { status: 404, body: "Not Found\n" },
  // A tenants document that fails validation: the problems are in the JSON answer.
  CONFIG_INVALID: { status: 400, body: "Bad Request: the config is invalid\n" },
};

/** An error Brim turns into a response; `detail` is logged, never sent. */
export class BrimError<C extends BrimErrorCode = BrimErrorCode> extends Error {
  readonly code: C;
  readonly detail: string;
  constructor(code: C, detail = "") {
    super(detail ? `${code}: ${detail}` : code);
    this.name = "BrimError";
    this.code = code;
    this.detail = detail;
  }
}

/** The public response for an error code; `no-store` so no cache keeps an error page. */
export function errorResponse(code: BrimErrorCode, extraHeaders?: HeadersInit): Response {
  const { status, body } = ERRORS[code];
  const headers = new Headers(extraHeaders);
  headers.set("content-type", "text/plain; charset=utf-8");
  headers.set("cache-control", "no-store");
  return new Response(body, { status, headers });
}
