import { BrimError, type OriginErrorCode } from "../errors";
import { stripHopByHop } from "./headers";
import { declaredLength, guardBody, type BodyFault } from "./body";

/**
 * The one way Brim talks to origins; injected so tests and coalescing can wrap it. Brim passes
 * `init` with `encodeResponseBody: "manual"`: the body arrives as the origin's exact bytes,
 * still encoded, so Brim can check them against Content-Length and decode within its own
 * limits (src/compress/decode.ts) instead of the runtime expanding them without bound, and
 * `cache: "no-store"`, so Cloudflare's own cache never answers or stores an origin fetch.
 */
export type OriginFetcher = (request: Request, init?: RequestInit) => Promise<Response>;

export interface FetchOriginOptions {
  /** Bound on the wait for the response headers. */
  readonly timeoutMs: number;
  /** Bound on the wait between two body reads (see src/origin/body.ts). */
  readonly bodyIdleTimeoutMs: number;
  /** Told once if the body faults (incomplete, idle). */
  readonly onFault?: (fault: BodyFault) => void;
}

/** What an origin fetch gives: the response (body guarded), or why there is none. Never thrown. */
export type OriginFetch =
  { readonly ok: true; readonly response: Response } | { readonly ok: false; readonly error: BrimError<OriginErrorCode> };

/** RFC 9110 §13.1: the request fields that make a request conditional. */
const CONDITIONALS = ["if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range"];

const MIN_FINAL_STATUS = 200;
const MAX_STATUS = 599;

/** Statuses that never carry content (RFC 9110 §15.3.5, §15.4.5). */
const BODYLESS = new Set([204, 304]);

/**
 * Fetches from the origin, bounding the wait for response headers by `timeoutMs` and the body
 * by `bodyIdleTimeoutMs` between reads. Never retries (a retried POST could run twice) and
 * never follows redirects (3xx pass through). Failures are results, never thrown:
 * `ORIGIN_TIMEOUT` / `ORIGIN_UNREACHABLE`; an answer that does not fit the request (a 304 to an
 * unconditional request) is `ORIGIN_INVALID_RESPONSE`. The body is guarded: a body the origin does not
 * finish sending errors for its reader, never ends cleanly.
 */
export async function fetchOrigin(fetcher: OriginFetcher, request: Request, options: FetchOriginOptions): Promise<OriginFetch> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  let response: Response;
  try {
    // cache "no-store": on Cloudflare a Worker's fetch otherwise reads through the zone's own
    // cache, which Brim's purge does not reach (docs/caching.md "Origin fetches").
    response = await fetcher(request, { signal: controller.signal, encodeResponseBody: "manual", cache: "no-store" });
  } catch (error) {
    if (controller.signal.aborted)
      return failed("ORIGIN_TIMEOUT", `no response headers within ${options.timeoutMs} ms from ${new URL(request.url).origin}`);
    return failed("ORIGIN_UNREACHABLE", `${new URL(request.url).origin}: ${String(error)}`);
  } finally {
    clearTimeout(timer);
  }
  // RFC 9110 §15: status codes are 100–599 (1xx never reach here); a Response cannot even carry
  // another, so answering with one would be Brim's own 500.
  if (response.status < MIN_FINAL_STATUS || response.status > MAX_STATUS) {
    await response.body?.cancel();
    return failed("ORIGIN_INVALID_RESPONSE", `status ${response.status} from ${new URL(request.url).origin}`);
  }
  if (response.status === 304 && !CONDITIONALS.some((name) => request.headers.has(name))) {
    await response.body?.cancel();
    return failed("ORIGIN_INVALID_RESPONSE", `304 to an unconditional request from ${new URL(request.url).origin}`);
  }
  // RFC 9112 §6.3: Content-Length frames the body unless Transfer-Encoding is present; a HEAD
  // response or a 204/304 has no body whatever it says.
  const framed = request.method !== "HEAD" && !BODYLESS.has(response.status) && !response.headers.has("transfer-encoding");
  const headers = stripHopByHop(new Headers(response.headers));
  const body = response.body
    ? guardBody(response.body, {
        expectedBytes: framed ? declaredLength(headers) : null,
        idleTimeoutMs: options.bodyIdleTimeoutMs,
        ...(options.onFault ? { onFault: options.onFault } : {}),
      })
    : null;
  return {
    ok: true,
    response: new Response(body, { status: response.status, statusText: response.statusText, headers, encodeBody: "manual" }),
  };
}

function failed(code: "ORIGIN_TIMEOUT" | "ORIGIN_UNREACHABLE" | "ORIGIN_INVALID_RESPONSE", detail: string): OriginFetch {
  return { ok: false, error: new BrimError(code, detail) };
}
