/**
 * A known request mix through one Brim (real Cache API, StatsLog, compression): the JSON and the
 * rendered page must show exactly its numbers: status classes, Cache-Status outcomes, bytes
 * served (every body byte the client read) and saved, errors by kind, hit ratio, origin fetches.
 * The pure classification (outcome, status class, coalescing fallback) is checked table-driven:
 * a Coalescer that cannot be reached does not exist locally.
 */
import { describe, expect, it } from "vitest";
import type { RequestOutcome } from "../../src/env";
import type { CacheStatus } from "../../src/http/cache-status";
import type { RouteReport } from "../../src/stats/counters";
import { sampleOf } from "../../src/stats/middleware";
import { cacheOutcomeOf, statusClassOf } from "../../src/stats/outcome";
import { bytes } from "../../src/stats/units";
import { testBrim } from "../support/brim";
import { script, uniquePath } from "../support/origin";
import { ADMIN_TOKEN, ADMIN_TOKEN_ENV, authBlock, goodClaims, sign, signingKey } from "../support/jwt";

interface StatsBody {
  routes: Record<string, RouteReport>;
  total: RouteReport;
}

describe("a known request mix", () => {
  it("4 misses (one compressed, one a 502), 5 hits (two compressed), 1 stale, 2 auth failures: exact counters in the JSON and on the page", async () => {
    const id = `m-${crypto.randomUUID().slice(0, 12)}`;
    const key = await signingKey("ES256");
    const brim = testBrim(
      [
        {
          id,
          auth: authBlock({ keys: [key.jwk!] }),
          admin: { tokenEnv: ADMIN_TOKEN_ENV },
          routes: [
            { path: "/open/*", cache: {} },
            { path: "/secure/*", auth: "required", cache: false },
          ],
        },
      ],
      { stats: true },
    );
    const base = uniquePath("");
    const json = JSON.stringify({ items: Array.from({ length: 300 }, (_, i) => ({ id: i, title: `Item ${i}` })) });
    await script(`/open${base}/a`, [{ headers: { "cache-control": "max-age=600" }, body: "hello" }]);
    await script(`/open${base}/c`, [{ headers: { "cache-control": "max-age=600", "content-type": "application/json" }, body: json }]);
    await script(`/open${base}/s`, [{ headers: { "cache-control": "max-age=1, stale-while-revalidate=600" }, body: "s" }]);
    await script(`/open${base}/e`, [{ status: 502, headers: { "cache-control": "no-store" }, body: "bad gateway" }]);

    let served = 0;
    const compressedBytes: number[] = [];
    const get = async (path: string, init: Parameters<typeof brim.fetch>[1] = {}) => {
      const res = await brim.fetch(path, init);
      const length = (await res.clone().arrayBuffer()).byteLength;
      served += length;
      return { res, length };
    };
    // /open/a: a miss, then 3 hits.
    for (const expected of [/fwd=uri-miss/, /^Brim; hit/, /^Brim; hit/, /^Brim; hit/])
      expect((await get(`/open${base}/a`)).res.headers.get("cache-status")).toMatch(expected);
    // /open/c: a miss compressed by Brim (no Content-Length: counted as it streams), then 2 compressed hits.
    for (const expected of [/fwd=uri-miss/, /^Brim; hit/, /^Brim; hit/]) {
      const { res, length } = await get(`/open${base}/c`, { headers: { "accept-encoding": "gzip" } });
      expect(res.headers.get("content-encoding")).toBe("gzip");
      expect(res.headers.get("cache-status")).toMatch(expected);
      compressedBytes.push(length);
    }
    // /open/s: a miss, then (2 s later) a stale hit.
    expect((await get(`/open${base}/s`)).res.headers.get("cache-status")).toMatch(/fwd=uri-miss/);
    brim.clock.advance(2);
    expect((await get(`/open${base}/s`)).res.headers.get("cache-status")).toMatch(/detail=stale-while-revalidate/);
    // /open/e: the origin answers 502.
    expect((await get(`/open${base}/e`)).res.status).toBe(502);
    // /secure/*: no token, then a badly signed one.
    expect((await get(`/secure${base}`)).res.status).toBe(401);
    const other = await signingKey("ES256", key.kid);
    expect((await get(`/secure${base}`, { token: await sign(other, goodClaims(brim.clock.now())) })).res.status).toBe(401);

    const res = await brim.fetch("/__brim/stats", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const { total, routes } = await res.json<StatsBody>();
    expect(total).toMatchObject({
      requests: 12,
      hits: 6,
      hitRatio: 0.5,
      staleServed: 1,
      originFetches: 4,
      statusClasses: { "1xx": 0, "2xx": 9, "3xx": 0, "4xx": 2, "5xx": 1 },
      cacheOutcomes: { hit: 5, stale: 1, collapsed: 0, revalidated: 0, "uri-miss": 4, miss: 0, bypass: 0, none: 2 },
      bytesServed: served,
      authRejections: { "missing-token": 1, "bad-signature": 1 },
      errors: {},
      errorsTotal: 2,
    });
    const identity = new TextEncoder().encode(json).byteLength;
    const saved = compressedBytes.reduce((sum, n) => sum + identity - n, 0);
    expect(saved).toBeGreaterThan(identity);
    expect(total.compressionBytesSaved).toBe(saved);
    expect(total.costs.objectCallsPer1000Requests).toBe(Math.round((total.costs.objectCallsTotal * 1000 * 100) / 12) / 100);
    expect(routes["/secure/*"]).toMatchObject({ requests: 2, statusClasses: { "4xx": 2 }, cacheOutcomes: { none: 2 } });
    expect(routes["/open/*"]).toMatchObject({ requests: 10, statusClasses: { "2xx": 9, "5xx": 1 } });

    // The page: the same numbers, in the tables an operator reads.
    const page = await (await brim.fetch("/__brim/", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    const tableOf = (name: string) =>
      page.slice(page.indexOf(`<table id="${name}"`), page.indexOf("</table>", page.indexOf(`<table id="${name}"`)));
    expect(page).toContain('<td id="summary-requests">12</td>');
    expect(page).toContain('<td id="summary-hit-ratio">50.0%</td>');
    expect(page).toContain('<td id="summary-origin-fetches">4</td>');
    expect(page).toContain(`<td id="summary-bytes-served">${bytes(served)}</td>`);
    expect(page).toContain(`<td id="summary-bytes-saved">${bytes(saved)}</td>`);
    expect(page).toContain('<td id="summary-errors">2</td>');
    expect(tableOf("status-classes")).toContain("<tr><td>2xx</td><td>9</td><td>75.0%</td></tr>");
    expect(tableOf("status-classes")).toContain("<tr><td>4xx</td><td>2</td><td>16.7%</td></tr>");
    expect(tableOf("status-classes")).toContain("<tr><td>5xx</td><td>1</td><td>8.3%</td></tr>");
    expect(tableOf("cache-outcomes")).toContain("<tr><td>hit</td><td>5</td><td>41.7%</td>");
    expect(tableOf("cache-outcomes")).toContain("<tr><td>stale</td><td>1</td><td>8.3%</td>");
    expect(tableOf("cache-outcomes")).toContain("<tr><td>uri-miss</td><td>4</td><td>33.3%</td>");
    expect(tableOf("errors")).toContain("<tr><td>auth: bad-signature</td><td>auth failure</td><td>1</td></tr>");
    expect(tableOf("errors")).toContain("<tr><td>auth: missing-token</td><td>auth failure</td><td>1</td></tr>");
    expect(tableOf("routes")).toMatch(/<tr><td>\/open\/\*<\/td><td>10<\/td><td>60\.0%<\/td>.*<\/tr><tr><td>\/secure\/\*<\/td><td>2<\/td>/);
  });
});

describe("classification (pure)", () => {
  const outcome = (cache: CacheStatus | null): RequestOutcome => ({ cache, originMs: 5, authFailure: null });
  it.each([
    [{ hit: true, ttl: 30 }, "hit"],
    [{ hit: true, ttl: -3, detail: "stale-while-revalidate" }, "stale"],
    [{ fwd: "stale", ttl: -5, detail: "stale-if-error" }, "stale"],
    [{ fwd: "stale", ttl: -5, detail: "coalesce-unavailable" }, "stale"],
    [{ fwd: "stale", fwdStatus: 304, ttl: 60 }, "revalidated"],
    [{ fwd: "uri-miss", fwdStatus: 200, collapsed: true }, "collapsed"],
    [{ fwd: "uri-miss", fwdStatus: 200, stored: true }, "uri-miss"],
    [{ fwd: "vary-miss" }, "vary-miss"],
    [{ fwd: "bypass", detail: "credentials" }, "bypass"],
    [{ fwd: "method" }, "method"],
    [{ fwd: "request" }, "request"],
    [null, "none"],
  ] as const)("%j → %s", (status, expected) => {
    expect(cacheOutcomeOf(status)).toBe(expected);
  });

  it("status classes and the coalescing fallback", () => {
    expect([101, 200, 304, 404, 502].map(statusClassOf)).toEqual(["1xx", "2xx", "3xx", "4xx", "5xx"]);
    const fallback = sampleOf(outcome({ fwd: "uri-miss", detail: "coalesce-unavailable" }), 503, 10);
    expect(fallback).toMatchObject({ coalesceFallback: true, status: 503, outcome: "uri-miss", bytes: 10 });
    expect(sampleOf(outcome({ hit: true, ttl: 1 }), 200, null)).toMatchObject({ coalesceFallback: false, outcome: "hit", bytes: null });
  });
});
