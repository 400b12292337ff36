/**
 * RFC 6455 §4.1 / RFC 9110 §7.8: a WebSocket opening handshake is a GET whose `Upgrade` lists
 * the `websocket` protocol (case-insensitive). `Connection: upgrade` is not required here: the
 * edge may drop `Connection` before a Worker sees the request, and the runtime's own fetch
 * rebuilds both fields on the way to the origin.
 */
export function isWebSocketUpgrade(request: Request): boolean {
  if (request.method !== "GET") return false;
  const upgrade = request.headers.get("upgrade");
  return upgrade !== null && upgrade.split(",").some((token) => token.trim().toLowerCase() === "websocket");
}
