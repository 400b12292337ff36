import type { Context } from "hono";
import type { AppEnv } from "../env";
import { errorResponse } from "../errors";
import type { CacheStatus } from "../http/cache-status";
import { openOriginWebSocket } from "../origin/websocket";
import type { CacheDeps } from "./context";
import { tag } from "./outcome";

/** Never cached, never coalesced: a WebSocket is one client's connection. */
const BYPASS: CacheStatus = { fwd: "bypass" };

/**
 * A WebSocket opening handshake on a route with `websocket: true` (auth has already run): the
 * connection is made to the origin and handed to the client. The `101` keeps the origin side's
 * `webSocket`; it is rebuilt only to carry `Cache-Status: fwd=bypass` in mutable headers
 * (later middleware appends `Server-Timing`), with `webSocket` passed on explicitly. Hono's
 * `c.res` setter copies a response with `new Response(body, init)` when something read `c.res`
 * earlier in the request, which would drop the socket: nothing before this handler does.
 */
export async function proxyWebSocket(c: Context<AppEnv>, deps: CacheDeps): Promise<Response> {
  const { tenant, route, outcome } = c.var;
  const started = Date.now();
  const result = await openOriginWebSocket(c.req.raw, route, deps.fetcher);
  outcome.originMs = Date.now() - started;
  if (!result.ok) {
    deps.log({ event: "origin-error", code: result.error.code, detail: result.error.detail, tenant: tenant.id, route: route.path });
    deps.onFailure?.(tenant.id, route.path, `origin-error:${result.error.code}`);
    const response = errorResponse(result.error.code);
    tag(outcome, response.headers, BYPASS);
    return response;
  }
  const origin = result.response;
  const headers = new Headers(origin.headers);
  tag(outcome, headers, BYPASS);
  if (origin.webSocket) return new Response(null, { status: 101, statusText: origin.statusText, headers, webSocket: origin.webSocket });
  // The origin refused the upgrade (RFC 6455 §4.1: the client fails the connection).
  return new Response(origin.body, { status: origin.status, statusText: origin.statusText, headers });
}
