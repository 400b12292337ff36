/** Opt-in Server-Timing and per-request JSON log lines (tenant `observability`). */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createBrim } from "../../src/app";
import { loadConfig } from "../../src/tenant/load";
import { originUrl, script, uniquePath } from "../support/origin";

function brimWith(observability: Record<string, boolean> | undefined) {
  const config = loadConfig({ tenants: [{ id: "obs", hosts: ["obs.test"], origin: originUrl(), routes: [{ path: "/*", cache: {} }], ...(observability ? { observability } : {}) }] });
  const logs: Record<string, unknown>[] = [];
  const app = createBrim({ config, log: (e) => logs.push(e), coalescer: env.COALESCER });
  return {
    logs,
    async fetch(path: string): Promise<Response> {
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(`http://obs.test${path}`, { headers: { host: "obs.test" } }), env, ctx);
      await res.arrayBuffer();
      await waitOnExecutionContext(ctx);
      return res;
    },
  };
}

describe("observability", () => {
  it("serverTiming: auth, cache, origin and total durations on every tenant response", async () => {
    const brim = brimWith({ serverTiming: true });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "x" }]);
    for (let i = 0; i < 2; i++) {
      const res = await brim.fetch(path);
      expect(res.headers.get("server-timing")).toMatch(/^auth;dur=\d+, cache;dur=\d+, origin;dur=\d+, total;dur=\d+$/);
    }
    expect(brim.logs.filter((e) => e.event === "request")).toHaveLength(0);
  });

  it("requestLog: one JSON line per request with tenant, route, status, cache status and origin ms", async () => {
    const brim = brimWith({ requestLog: true });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "x" }]);
    await brim.fetch(path);
    const hit = await brim.fetch(path);
    expect(hit.headers.get("server-timing")).toBeNull();
    const lines = brim.logs.filter((e) => e.event === "request");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ tenant: "obs", route: "/*", method: "GET", status: 200, cacheStatus: "Brim; fwd=uri-miss; fwd-status=200; stored" });
    expect(typeof lines[0]?.originMs).toBe("number");
    expect(lines[1]).toMatchObject({ status: 200, originMs: null });
    expect(String(lines[1]?.cacheStatus)).toMatch(/^Brim; hit/);
    expect(() => JSON.stringify(lines[1])).not.toThrow();
  });

  it("off by default", async () => {
    const brim = brimWith(undefined);
    const res = await brim.fetch(uniquePath());
    expect(res.headers.get("server-timing")).toBeNull();
    expect(brim.logs.filter((e) => e.event === "request")).toHaveLength(0);
  });
});
