/**
 * The request log line (#16): host, path with credentials redacted, request id from `cf-ray`,
 * bytes (declared or counted as the body streams), sampling with an injected random source,
 * errors always logged. Real workerd, real test origin.
 */
import { describe, expect, it } from "vitest";
import { testBrim, type TestBrimOptions } from "../support/brim";
import { script, uniquePath } from "../support/origin";
import { ConfigError, loadConfig } from "../../src/tenant/load";
import { originUrl } from "../support/origin";

function brimWith(requestLog: unknown, options: TestBrimOptions = {}) {
  return testBrim([{ id: "logs", routes: [{ path: "/*", cache: false }], observability: { requestLog } }], options);
}

const lines = (logs: Record<string, unknown>[]) => logs.filter((e) => e.event === "request");

/** Draws from a fixed list, in order: which requests sampling keeps is decided by the test, not by chance. */
function draws(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe("request log line", () => {
  it("carries host, method, redacted path, status, cache status, bytes and the cf-ray request id", async () => {
    const brim = brimWith(true);
    const path = uniquePath();
    await script(path, [{ body: "0123456789" }]);
    const res = await brim.fetch(`${path}?x=1&token=s3cr3t&%74oken=again&sig=abc`, { headers: { "cf-ray": "8c1f2a3b4c5d6e7f-AMS" } });
    expect(res.status).toBe(200);
    const [line, ...rest] = lines(brim.logs);
    expect(rest).toEqual([]);
    expect(line).toEqual({
      event: "request",
      requestId: "8c1f2a3b4c5d6e7f-AMS",
      host: "logs.test",
      tenant: "logs",
      route: "/*",
      method: "GET",
      path: `${path}?x=1&token=REDACTED&%74oken=REDACTED&sig=REDACTED`,
      status: 200,
      cacheStatus: expect.stringMatching(/^Brim; fwd=bypass/),
      originMs: expect.any(Number),
      ms: expect.any(Number),
      sampleRate: 1,
      bytes: 10,
    });
    expect(JSON.stringify(brim.logs)).not.toContain("s3cr3t");
    expect(JSON.parse(JSON.stringify(line))).toStrictEqual(line);
  });

  it("without a well-formed cf-ray the id is a fresh UUID per request", async () => {
    const brim = brimWith(true);
    const path = uniquePath();
    await brim.fetch(path);
    await brim.fetch(path, { headers: { "cf-ray": 'not a ray, "quoted"' } });
    const ids = lines(brim.logs).map((l) => l.requestId);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it("bytes of a body of unknown length are counted as it streams, and the body arrives intact", async () => {
    const brim = brimWith(true);
    const path = uniquePath();
    await script(path, [{ headers: { "transfer-encoding": "chunked" }, bodyBytes: 200_000 }]);
    const res = await brim.fetch(path, { background: false });
    // The counting path, not the declared one: the response has no Content-Length.
    expect(res.headers.get("content-length")).toBeNull();
    expect(lines(brim.logs)).toEqual([]);
    expect((await res.arrayBuffer()).byteLength).toBe(200_000);
    await brim.settled();
    expect(lines(brim.logs)).toMatchObject([{ status: 200, bytes: 200_000 }]);
    expect(lines(brim.logs)[0]).not.toHaveProperty("aborted");
  });

  it("a body the client abandons is logged with the bytes sent and aborted: true", async () => {
    const brim = brimWith(true);
    const path = uniquePath();
    await script(path, [{ headers: { "transfer-encoding": "chunked" }, bodyBytes: 1_000_000, chunkDelayMs: 5 }]);
    const res = await brim.fetch(path, { background: false });
    const reader = res.body!.getReader();
    const first = await reader.read();
    await reader.cancel();
    await brim.settled();
    const [line] = lines(brim.logs);
    expect(line).toMatchObject({ aborted: true });
    expect(line?.bytes).toBeGreaterThanOrEqual(first.value!.byteLength);
    expect(line?.bytes).toBeLessThan(1_000_000);
  });

  it("HEAD logs 0 bytes", async () => {
    const brim = brimWith(true);
    const path = uniquePath();
    await script(path, [{ headers: { "transfer-encoding": "chunked" }, body: "abc" }]);
    expect((await brim.fetch(path, { method: "HEAD" })).status).toBe(200);
    expect(lines(brim.logs)).toMatchObject([{ method: "HEAD", bytes: 0 }]);
  });
});

describe("request log sampling", () => {
  it("sampleRate 0: no line for successes, but every 5xx and origin failure is logged, marked error", async () => {
    const brim = brimWith({ sampleRate: 0 }, { logSampling: draws([0]) });
    const ok = uniquePath();
    const failing = uniquePath();
    const down = uniquePath();
    await script(failing, [{ status: 503, body: "busy" }]);
    await script(down, [{ reset: true }]);
    for (let i = 0; i < 3; i++) expect((await brim.fetch(ok)).status).toBe(200);
    expect(lines(brim.logs)).toEqual([]);
    expect((await brim.fetch(failing)).status).toBe(503);
    expect((await brim.fetch(down)).status).toBe(502);
    expect(lines(brim.logs)).toMatchObject([
      { path: failing, status: 503, error: true, sampleRate: 1 },
      { path: down, status: 502, error: true, sampleRate: 1 },
    ]);
  });

  it("sampleRate 0.5: a request is logged when its draw is below the rate; lines carry the rate", async () => {
    const brim = brimWith({ sampleRate: 0.5 }, { logSampling: draws([0.49, 0.5, 0.99, 0]) });
    const paths = [uniquePath(), uniquePath(), uniquePath(), uniquePath()];
    for (const path of paths) await brim.fetch(path);
    expect(lines(brim.logs).map((l) => [l.path, l.sampleRate])).toEqual([
      [paths[0], 0.5],
      [paths[3], 0.5],
    ]);
  });

  it("true logs every request without drawing", async () => {
    const brim = brimWith(true, {
      logSampling: () => {
        throw new Error("drawn");
      },
    });
    await brim.fetch(uniquePath());
    expect(lines(brim.logs)).toHaveLength(1);
  });

  it("the config accepts true, false or { sampleRate } from 0 to 1 and names the field otherwise", () => {
    const load = (requestLog: unknown) =>
      loadConfig({
        tenants: [{ id: "t", hosts: ["t.test"], origin: originUrl(), routes: [{ path: "/*" }], observability: { requestLog } }],
      });
    expect(load({ sampleRate: 0.25 }).tenants[0]?.observability?.requestLog).toEqual({ sampleRate: 0.25 });
    expect(load(true).tenants[0]?.observability?.requestLog).toEqual({ sampleRate: 1 });
    expect(load(false).tenants[0]?.observability?.requestLog).toBeNull();
    for (const bad of [1.5, -0.1, { sampleRate: 2 }, { rate: 0.5 }, "yes"]) {
      expect(() => load(bad), JSON.stringify(bad)).toThrow(ConfigError);
      try {
        load(bad);
      } catch (error) {
        expect((error as ConfigError).problems.join("\n")).toMatch(/observability\.requestLog/);
      }
    }
  });
});
