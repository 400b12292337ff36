/**
 * The Worker entry (src/index.ts): `BRIM_CONFIG` is parsed once per isolate, never per request,
 * and an empty or invalid config answers 503 NOT_CONFIGURED (logged once, not per request).
 * "Once" is observed through what only a kept app remembers: its JWKS cache (a rebuilt app
 * would fetch the key set again) and its one log line per bad config.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { authBlock, goodClaims, jwksServer, sign, signingKey } from "./support/jwt";
import { count, originUrl, script, uniquePath } from "./support/origin";

const NOT_CONFIGURED_BODY = "Service Unavailable: the proxy is not configured\n";

/** A valid tenants file as text; `id` makes each test's text its own. */
function configText(id: string, auth?: Record<string, unknown>): string {
  const route = auth ? { path: "/*", auth: "required", cache: false } : { path: "/*", cache: false };
  return JSON.stringify({ tenants: [{ id, hosts: [`${id}.test`], origin: originUrl(), ...(auth ? { auth } : {}), routes: [route] }] });
}

async function send(config: string, host: string, path = "/", token?: string): Promise<Response> {
  const ctx = createExecutionContext();
  const headers = new Headers({ host });
  if (token) headers.set("authorization", `Bearer ${token}`);
  const res = await worker.fetch(new Request(`http://${host}${path}`, { headers }), { ...env, BRIM_CONFIG: config }, ctx);
  const body = await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return new Response(body, res);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the Worker entry", () => {
  it("parses BRIM_CONFIG once per isolate, not per request, and serves through the built app", async () => {
    const id = `idx-${crypto.randomUUID().slice(0, 8)}`;
    vi.spyOn(console, "log").mockImplementation(() => {}); // the default log sink (jwks-fetched lines)
    const key = await signingKey("ES256");
    const jwks = await jwksServer([key]);
    const text = configText(id, authBlock({ jwksUrl: jwks.url }));
    const path = uniquePath();
    await script(path, [{ body: "from origin #{count}" }]);
    for (let i = 1; i <= 3; i++) {
      const res = await send(text, `${id}.test`, path, await sign(key, goodClaims(Date.now())));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(`from origin #${i}`);
    }
    // One app for the three requests: its key set was fetched once.
    expect(await count(jwks.path)).toBe(1);
    // A new text (a redeploy with another config) is a new app, built once more.
    const other = configText(`${id}-b`, authBlock({ jwksUrl: jwks.url }));
    for (let i = 0; i < 2; i++) expect((await send(other, `${id}-b.test`, path, await sign(key, goodClaims(Date.now())))).status).toBe(200);
    expect(await count(jwks.path)).toBe(2);
  });

  it.each([
    ["empty", ""],
    ["blank", "  \n"],
  ])("answers 503 NOT_CONFIGURED when BRIM_CONFIG is %s, and says so once", async (_, config) => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    // Another config first: the entry remembers only the last text it saw.
    await send(configText(`idx-${crypto.randomUUID().slice(0, 8)}`), "x.test");
    for (let i = 0; i < 2; i++) {
      const res = await send(config, "acme.test");
      expect(res.status).toBe(503);
      expect(await res.text()).toBe(NOT_CONFIGURED_BODY);
    }
    const logged = errors.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
    expect(logged).toEqual([{ event: "config-missing", detail: "BRIM_CONFIG is empty" }]);
  });

  it.each([
    ["not JSON", "{ tenants: ", /^\(root\): invalid JSON/],
    [
      "a schema error",
      JSON.stringify({
        tenants: [{ id: "bad", hosts: ["bad.test"], origin: "http://127.0.0.1:1", routes: [{ path: "/*", cache: { ttl: -5 } }] }],
      }),
      /^tenants\[0\]\.routes\[0\]\.cache\.ttl: /,
    ],
  ])("answers 503 NOT_CONFIGURED when BRIM_CONFIG is %s, logging the problems once", async (_, config, problem) => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    for (let i = 0; i < 2; i++) {
      const res = await send(config, "bad.test");
      expect(res.status).toBe(503);
      expect(await res.text()).toBe(NOT_CONFIGURED_BODY);
    }
    const logged = errors.mock.calls.map(([line]) => JSON.parse(String(line)) as { event: string; problems: string[] });
    expect(logged).toHaveLength(1);
    expect(logged[0]?.event).toBe("config-invalid");
    expect(logged[0]?.problems.some((p) => problem.test(p))).toBe(true);
  });
});
