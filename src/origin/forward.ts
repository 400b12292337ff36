import { errorResponse, type BrimError, type OriginErrorCode } from "../errors";
import type { Route } from "../tenant/types";
import type { BodyFault } from "../http/body";
import { fetchOrigin, type OriginFetcher } from "../http/fetch";
import { buildOriginRequest } from "./request";

export type ForwardResult =
  | { readonly ok: true; readonly response: Response }
  | { readonly ok: false; readonly error: BrimError<OriginErrorCode>; readonly response: Response };

/**
 * Proxies a request the cache does not handle (uncached routes, unsafe methods, credentials, cookies, Range misses too large to store):
 * method, path, query and body as sent, the client's own conditionals included.
 */
export async function forwardToOrigin(
  request: Request,
  route: Route,
  fetcher: OriginFetcher,
  onFault?: (fault: BodyFault) => void,
): Promise<ForwardResult> {
  const originRequest = buildOriginRequest(request, route, { search: new URL(request.url).search, forCache: false });
  const fetched = await fetchOrigin(fetcher, originRequest, {
    timeoutMs: route.timeoutMs,
    bodyIdleTimeoutMs: route.bodyIdleTimeoutMs,
    ...(onFault ? { onFault } : {}),
  });
  return fetched.ok ? fetched : { ok: false, error: fetched.error, response: errorResponse(fetched.error.code) };
}
