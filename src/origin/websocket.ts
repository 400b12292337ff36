import { BrimError } from "../errors";
import type { OriginFetcher } from "../http/fetch";
import type { Route } from "../tenant/types";
import { buildOriginRequest } from "./request";

export type UpgradeResult =
  | { readonly ok: true; readonly response: Response }
  | { readonly ok: false; readonly error: BrimError<"ORIGIN_TIMEOUT" | "ORIGIN_UNREACHABLE"> };

/**
 * Opens a WebSocket to the route's origin for a client's opening handshake (RFC 6455 §4.1):
 * the request the origin would get for any proxied GET (src/origin/request.ts: forwarding
 * headers, no spoofable fields), with `Upgrade: websocket` put back after the hop-by-hop
 * strip, which the runtime's fetch needs to make the handshake itself. The wait for the
 * origin's answer is bounded by the route's `timeoutMs`; the open connection is not.
 *
 * The response is returned exactly as the runtime made it: a `101` carries the origin-side
 * `webSocket`, which `new Response(body, response)` would drop. Any other status is the
 * origin's refusal, passed on as a plain response.
 */
export async function openOriginWebSocket(request: Request, route: Route, fetcher: OriginFetcher): Promise<UpgradeResult> {
  const originRequest = buildOriginRequest(request, route, { search: new URL(request.url).search, forCache: false });
  originRequest.headers.set("upgrade", "websocket");
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), route.timeoutMs);
  try {
    return { ok: true, response: await fetcher(originRequest, { signal: controller.signal }) };
  } catch (error) {
    const origin = new URL(originRequest.url).origin;
    if (controller.signal.aborted)
      return { ok: false, error: new BrimError("ORIGIN_TIMEOUT", `no WebSocket handshake within ${route.timeoutMs} ms from ${origin}`) };
    return { ok: false, error: new BrimError("ORIGIN_UNREACHABLE", `${origin}: ${String(error)}`) };
  } finally {
    clearTimeout(timer);
  }
}
