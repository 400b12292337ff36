/** Opt-in Server-Timing and per-request JSON log lines (tenant `observability`). */
import { describe, expect, it } from "vitest";
import { testBrim } from "../support/brim";
import { script, uniquePath } from "../support/origin";

function brimWith(observability: Record<string, boolean> | undefined) {
  // The real clock: Server-Timing and originMs are measured durations.
  return testBrim([{ id: "obs", routes: [{ path: "/*", cache: {} }], ...(observability ? { observability } : {}) }], { now: Date.now });
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
    expect(lines[0]).toMatchObject({
      tenant: "obs",
      route: "/*",
      method: "GET",
      status: 200,
      cacheStatus: "Brim; fwd=uri-miss; fwd-status=200; stored",
    });
    expect(typeof lines[0]?.originMs).toBe("number");
    expect(lines[1]).toMatchObject({ status: 200, originMs: null });
    expect(String(lines[1]?.cacheStatus)).toMatch(/^Brim; hit/);
    // One JSON line each: the record survives a JSON round trip unchanged (no undefined, Date,
    // BigInt or function values that the line would drop, reshape or choke on).
    for (const line of lines) expect(JSON.parse(JSON.stringify(line))).toStrictEqual(line);
  });

  it("off by default", async () => {
    const brim = brimWith(undefined);
    const res = await brim.fetch(uniquePath());
    expect(res.headers.get("server-timing")).toBeNull();
    expect(brim.logs.filter((e) => e.event === "request")).toHaveLength(0);
  });
});
