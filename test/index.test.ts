/**
 * The Worker entry (src/index.ts) with its real bindings: the app is built once per isolate
 * around the deployment's config store (ConfigStore "config", KV `CONFIG_KV`); before anything
 * is pushed every tenant request is 503 NOT_CONFIGURED (logged), after a push through the
 * platform API the pushed tenants are served, and the app (and so each tenant's auth state) is
 * kept across requests and across pushes that do not change that tenant. "Kept" is observed
 * through what only a kept app remembers: its JWKS cache (a rebuilt one would fetch again).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { authBlock, goodClaims, jwksServer, sign, signingKey } from "./support/jwt";
import { count, originUrl, script, uniquePath } from "./support/origin";
import { PLATFORM_TOKEN } from "./support/store";

async function send(host: string, path = "/", init: { method?: string; token?: string; body?: string } = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const headers = new Headers({ host });
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  const request = new Request(`http://${host}${path}`, { method: init.method ?? "GET", headers, body: init.body ?? null });
  const res = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, env, ctx);
  const body = await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return new Response(body, res);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the Worker entry", () => {
  it("answers 503 NOT_CONFIGURED before the first push, then serves what the platform API pushed, keeping tenant state across pushes", async () => {
    const logs = vi.spyOn(console, "log").mockImplementation(() => {});
    const before = await send("nobody.test");
    expect(before.status).toBe(503);
    expect(await before.text()).toBe("Service Unavailable: the proxy is not configured\n");
    expect(logs.mock.calls.map(([line]) => JSON.parse(String(line)).event)).toContain("config-unavailable");

    const id = `idx-${crypto.randomUUID().slice(0, 8)}`;
    const key = await signingKey("ES256");
    const jwks = await jwksServer([key]);
    const tenant = (tid: string) => ({
      id: tid,
      hosts: [`${tid}.test`],
      origin: originUrl(),
      auth: authBlock({ jwksUrl: jwks.url }),
      routes: [{ path: "/*", auth: "required", cache: false }],
    });
    const push = await send("any.test", "/__brim/platform/config", {
      method: "PUT",
      token: PLATFORM_TOKEN,
      body: JSON.stringify({ tenants: [tenant(id)] }),
    });
    expect(push.status).toBe(200);
    const version = ((await push.json()) as { version: number }).version;

    const path = uniquePath();
    await script(path, [{ body: "from origin #{count}" }]);
    for (let i = 1; i <= 3; i++) {
      const res = await send(`${id}.test`, path, { token: await sign(key, goodClaims(Date.now())) });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(`from origin #${i}`);
    }
    expect(await count(jwks.path)).toBe(1);

    // Another tenant added: the first keeps its key set (no second JWKS fetch).
    const other = `${id}-b`;
    const added = await send("any.test", `/__brim/platform/tenants/${other}`, {
      method: "PUT",
      token: PLATFORM_TOKEN,
      body: JSON.stringify(tenant(other)),
    });
    expect(added.status).toBe(200);
    expect(((await added.json()) as { version: number }).version).toBe(version + 1);
    expect((await send(`${other}.test`, path, { token: await sign(key, goodClaims(Date.now())) })).status).toBe(200);
    expect((await send(`${id}.test`, path, { token: await sign(key, goodClaims(Date.now())) })).status).toBe(200);
    // One fetch for the new tenant, none again for the first.
    expect(await count(jwks.path)).toBe(2);
  });
});
