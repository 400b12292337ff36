/** The stats page renderer (pure): axes with labels, legends, tables in human units, escaping, the empty state. */
import { describe, expect, it } from "vitest";
import { emptyCounters, report } from "../../src/stats/counters";
import type { SeriesPoint, StatsReport } from "../../src/stats/object";
import { renderStatsPage } from "../../src/stats/page";
import { bytes, clock, ms, niceCeiling, tick } from "../../src/stats/units";

const T0 = Date.UTC(2026, 10, 23, 14, 5);

function point(t: number, requests: number, hits: number, originFetches: number, p50: number | null, p99: number | null): SeriesPoint {
  return {
    t,
    requests,
    hits,
    originFetches,
    p50,
    p99,
    statusClasses: { "1xx": 0, "2xx": requests, "3xx": 0, "4xx": 0, "5xx": 0 },
    cacheOutcomes: { hit: hits, "uri-miss": requests - hits },
    bytesServed: 1_500 * requests,
    bytesSaved: 0,
    errors: 0,
    objectCalls: 1,
  };
}

function reportWith(routes: Record<string, ReturnType<typeof report>>, series: readonly SeriesPoint[]): StatsReport {
  return { routes, total: report(emptyCounters()), series };
}

function render(r: StatsReport): string {
  return renderStatsPage({
    tenantId: "acme",
    report: r,
    atIso: "2026-11-23T14:07:00.000Z",
    refreshSeconds: 5,
    stepMs: 60_000,
    topRoutes: 2,
  });
}

describe("renderStatsPage", () => {
  it("draws one point per step in each chart, with a time axis in HH:MM UTC and y ticks in the chart's unit", () => {
    const html = render(reportWith({}, [point(T0, 10, 8, 2, 20, 50), point(T0 + 60_000, 4, 1, 3, 10, null)]));
    expect(html).toContain('<meta http-equiv="refresh" content="5">');
    expect(html).toMatch(/id="chart-hit-ratio" data-points="2"/);
    expect(html).toMatch(/id="chart-offload" data-points="4"/);
    expect(html).toMatch(/id="chart-latency" data-points="3"/);
    // Time ticks, axis names, y ticks with units: % for the ratio, ms for latency, KB for bytes.
    expect(html).toContain(">14:05</text>");
    expect(html).toContain(">14:06</text>");
    expect(html).toContain(">time (UTC)</text>");
    expect(html).toContain(">100%</text>");
    expect(html).toContain(">50 ms</text>");
    expect(html).toContain(">20.0 KB</text>");
    expect(html).toContain(">per minute</text>");
    expect(html).toContain(">calls per 1,000 requests</text>");
    // Legends name the lines.
    expect(html).toMatch(/id="legend-status">.*2xx.*5xx/);
    expect(html).toMatch(/id="legend-bytes">.*served.*saved by compression/);
    expect(html).not.toContain("<script");
  });

  it("lists the top routes by requests and says how many are left out", () => {
    const busy = emptyCounters();
    busy.requests = 9;
    const quiet = emptyCounters();
    quiet.requests = 1;
    const html = render(reportWith({ "/quiet": report(quiet), "/busy": report(busy), "/idle": report(emptyCounters()) }, []));
    const routes = html.slice(html.indexOf('id="routes"'));
    expect(routes.indexOf("/busy")).toBeLessThan(routes.indexOf("/quiet"));
    expect(routes.slice(0, routes.indexOf("</table>"))).not.toContain("/idle");
    expect(html).toContain("1 more routes not shown");
  });

  it("escapes route paths and tenant ids, and says when there is no data", () => {
    const html = renderStatsPage({
      tenantId: "a<b",
      report: reportWith({ '/x/<img src=x onerror="1">': report(emptyCounters()) }, []),
      atIso: "now",
      refreshSeconds: 5,
      stepMs: 60_000,
      topRoutes: 20,
    });
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=&quot;1&quot;&gt;");
    expect(html).toContain("a&lt;b");
    expect(html).toContain("no data yet");
  });
});

describe("units", () => {
  it.each([
    [0, "0 B"],
    [999, "999 B"],
    [1_500, "1.50 KB"],
    [20_000, "20.0 KB"],
    [3_250_000, "3.25 MB"],
  ])("bytes(%d) = %s", (n, text) => expect(bytes(n)).toBe(text));
  it("writes times, durations and ticks", () => {
    expect(clock(T0)).toBe("14:05");
    expect(ms(20)).toBe("20 ms");
    expect(ms(2_000)).toBe("2 s");
    expect(ms("> 60000")).toBe("> 60000 ms");
    expect(ms(null)).toBe("–");
    expect(tick(0.25, "percent")).toBe("25%");
    expect(tick(2_500, "count")).toBe("2.5k");
    expect([0, 0.3, 7, 11, 180, 2_400].map(niceCeiling)).toEqual([1, 0.5, 10, 20, 200, 2_500]);
  });
});
