import { BrimError } from "../errors";
import { stripHopByHop } from "../utils/headers";

/** The one way Brim talks to origins; injected so tests and coalescing can wrap it. */
export type OriginFetcher = (request: Request) => Promise<Response>;

/**
 * Fetches from the origin, bounding the wait for response headers by `timeoutMs`; the body
 * then streams without a deadline. Never retries (a retried POST could run twice) and never
 * follows redirects (3xx pass through). Failures become `ORIGIN_TIMEOUT` / `ORIGIN_UNREACHABLE`.
 */
export async function fetchOrigin(fetcher: OriginFetcher, request: Request, timeoutMs: number): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetcher(new Request(request, { signal: controller.signal }));
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers: stripHopByHop(new Headers(response.headers)),
    });
  } catch (error) {
    if (controller.signal.aborted) throw new BrimError("ORIGIN_TIMEOUT", `no response headers within ${timeoutMs} ms from ${new URL(request.url).origin}`);
    throw new BrimError("ORIGIN_UNREACHABLE", `${new URL(request.url).origin}: ${String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}
