/**
 * WebSocket upgrades (RFC 6455 §4) through Brim on routes with `websocket: true`: the origin's
 * 101 reaches the client with its socket, messages round-trip through the echo origin, auth
 * runs first, nothing is cached; on other routes `Upgrade` stays a hop-by-hop field.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { isWebSocketUpgrade } from "../../src/http/upgrade";
import { testBrim, type TestBrim } from "../support/brim";
import { authBlock, goodClaims, sign, signingKey } from "../support/jwt";
import { originUrl, requests, uniquePath } from "../support/origin";
import { loadConfig } from "../../src/tenant/load";

const WS_ROUTE = { path: "/*", websocket: true };

/** A client's opening handshake, sent straight to the app (the `fetch` helper reads bodies). */
async function upgrade(
  brim: TestBrim,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ response: Response; settle: () => Promise<void> }> {
  const ctx = createExecutionContext();
  const request = new Request(`http://acme.test${path}`, { headers: { host: "acme.test", upgrade: "websocket", ...headers } });
  const response = await brim.app.fetch(request, env, ctx);
  return { response, settle: () => waitOnExecutionContext(ctx) };
}

/** Accepts the client side of a 101 and returns a way to send a message and await the next one. */
type Message = string | ArrayBuffer | Blob;

function talk(socket: WebSocket): (data: string | ArrayBuffer) => Promise<Message> {
  const inbox: Message[] = [];
  const waiters: ((data: Message) => void)[] = [];
  socket.addEventListener("message", (event) => {
    const data = event.data as Message;
    const waiter = waiters.shift();
    if (waiter) waiter(data);
    else inbox.push(data);
  });
  socket.accept();
  return (data) => {
    socket.send(data);
    const queued = inbox.shift();
    return queued !== undefined ? Promise.resolve(queued) : new Promise((resolve) => waiters.push(resolve));
  };
}

describe("WebSocket upgrades on routes with websocket: true", () => {
  it("the origin's 101 reaches the client with its socket, and messages echo through Brim", async () => {
    const brim = testBrim({ acme: [WS_ROUTE] });
    const path = uniquePath();
    const { response, settle } = await upgrade(brim, path);
    expect(response.status).toBe(101);
    expect(response.webSocket).not.toBeNull();
    expect(response.headers.get("cache-status")).toBe("Brim; fwd=bypass");
    const send = talk(response.webSocket!);
    expect(await send("hello")).toBe("echo:hello");
    expect(await send("ünïcødé ✓")).toBe("echo:ünïcødé ✓");
    const binary = await send(new Uint8Array([0, 1, 2, 255]).buffer);
    // Binary messages arrive as a Blob under this compatibility date.
    expect(new Uint8Array(await (binary as Blob).arrayBuffer())).toEqual(
      new Uint8Array([...new TextEncoder().encode("echo:"), 0, 1, 2, 255]),
    );
    response.webSocket!.close(1000, "done");
    await settle();
    // The origin saw one handshake with Brim's forwarding headers, as any proxied request.
    const log = await requests(path);
    expect(log.count).toBe(1);
    expect(log.requests[0]!.headers).toMatchObject({ upgrade: "websocket", "x-forwarded-host": "acme.test", "x-forwarded-proto": "http" });
  });

  it("is never cached: each handshake reaches the origin, even on a caching route", async () => {
    const brim = testBrim({ acme: [{ ...WS_ROUTE, cache: {} }] });
    const path = uniquePath();
    for (let i = 0; i < 2; i++) {
      const { response, settle } = await upgrade(brim, path);
      expect(response.status).toBe(101);
      const send = talk(response.webSocket!);
      expect(await send(`n${i}`)).toBe(`echo:n${i}`);
      response.webSocket!.close(1000);
      await settle();
    }
    expect((await requests(path)).count).toBe(2);
  });

  it("Server-Timing and the request log see the 101 for tenants that observe, and nothing throws", async () => {
    const config = loadConfig({
      tenants: [
        {
          id: "acme",
          hosts: ["acme.test"],
          origin: originUrl(),
          observability: { serverTiming: true, requestLog: true },
          routes: [WS_ROUTE],
        },
      ],
    });
    const brim = testBrim({ acme: [WS_ROUTE] }, { config });
    const { response, settle } = await upgrade(brim, uniquePath());
    expect(response.status).toBe(101);
    expect(response.headers.get("server-timing")).toMatch(/^auth;dur=\d+, cache;dur=\d+, origin;dur=\d+, total;dur=\d+$/);
    expect(brim.logs).toContainEqual(expect.objectContaining({ event: "request", status: 101, cacheStatus: "Brim; fwd=bypass" }));
    const send = talk(response.webSocket!);
    expect(await send("x")).toBe("echo:x");
    response.webSocket!.close(1000);
    await settle();
    expect(brim.logs.filter((e) => e.event === "internal-error")).toEqual([]);
  });

  it("an origin that refuses the upgrade is answered as it said, uncached", async () => {
    const brim = testBrim({ acme: [WS_ROUTE] });
    const path = `${uniquePath()}/refuse`;
    const { response } = await upgrade(brim, path);
    expect(response.status).toBe(403);
    expect(response.webSocket).toBeNull();
    expect(response.headers.get("cache-status")).toBe("Brim; fwd=bypass");
    expect(await response.text()).toBe("refused");
  });

  it("an unreachable origin is a 502 with fwd=bypass", async () => {
    const brim = testBrim({ acme: [{ ...WS_ROUTE, origin: "http://127.0.0.1:9" }] });
    const { response } = await upgrade(brim, uniquePath());
    expect(response.status).toBe(502);
    expect(response.headers.get("cache-status")).toBe("Brim; fwd=bypass");
    expect(brim.logs).toContainEqual(expect.objectContaining({ event: "origin-error", code: "ORIGIN_UNREACHABLE" }));
  });

  it("auth still applies: no token is a 401 and the origin never sees the handshake; a good token upgrades", async () => {
    const key = await signingKey("ES256");
    const brim = testBrim([
      { id: "acme", auth: authBlock({ keys: [key.jwk!] }), routes: [{ path: "/*", auth: "required", websocket: true }] },
    ]);
    const path = uniquePath();
    const refused = await brim.fetch(path, { headers: { upgrade: "websocket" }, background: false });
    expect(refused.status).toBe(401);
    expect(refused.webSocket).toBeNull();
    expect((await requests(path)).count).toBe(0);

    const token = await sign(key, goodClaims(brim.clock.now()));
    const accepted = await brim.fetch(path, { headers: { upgrade: "websocket" }, token, background: false });
    expect(accepted.status).toBe(101);
    const send = talk(accepted.webSocket!);
    expect(await send("authorized")).toBe("echo:authorized");
    accepted.webSocket!.close(1000);
    expect((await requests(path)).count).toBe(1);
  });
});

describe("routes without websocket: true", () => {
  it("Upgrade is dropped as hop-by-hop: the origin sees a plain GET and the client a plain answer", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: false }] });
    const path = uniquePath();
    const { response } = await upgrade(brim, path);
    expect(response.status).toBe(200);
    expect(response.webSocket).toBeNull();
    expect(await response.text()).toBe(`origin:${path}#1`);
    expect((await requests(path)).requests[0]!.headers.upgrade).toBeUndefined();
  });
});

describe("isWebSocketUpgrade", () => {
  it.each([
    ["GET", "websocket", true],
    ["GET", "WebSocket", true],
    ["GET", "h2c, websocket", true],
    ["GET", "h2c", false],
    ["GET", null, false],
    ["POST", "websocket", false],
  ] as const)("%s with Upgrade %s → %s", (method, upgradeHeader, expected) => {
    const headers: Record<string, string> = upgradeHeader === null ? {} : { upgrade: upgradeHeader };
    expect(isWebSocketUpgrade(new Request("http://a.test/", { method, headers }))).toBe(expected);
  });
});
