/** The stats page renderer (pure): charts with data, escaping, the empty state. */
import { describe, expect, it } from "vitest";
import { emptyCounters, report } from "../../src/stats/counters";
import type { StatsReport } from "../../src/stats/object";
import { renderStatsPage } from "../../src/stats/page";

function reportWith(routes: Record<string, ReturnType<typeof report>>, series: StatsReport["series"]): StatsReport {
  return { routes, total: report(emptyCounters()), series };
}

describe("renderStatsPage", () => {
  it("draws one point per step in each chart and refreshes itself", () => {
    const series = [
      { t: 0, requests: 10, hits: 8, originFetches: 2, p50: 20, p99: 50 },
      { t: 60_000, requests: 4, hits: 1, originFetches: 3, p50: 10, p99: null },
    ];
    const html = renderStatsPage("acme", reportWith({}, series), "2026-11-23T00:00:00.000Z", 5);
    expect(html).toContain('<meta http-equiv="refresh" content="5">');
    expect(html).toMatch(/id="chart-hit-ratio" data-points="2"/);
    expect(html).toMatch(/id="chart-offload" data-points="4"/);
    expect(html).toMatch(/id="chart-latency" data-points="3"/);
    expect(html).not.toContain("<script");
  });

  it("escapes route paths and tenant ids, and says when there is no data", () => {
    const html = renderStatsPage("a<b", reportWith({ '/x/<img src=x onerror="1">': report(emptyCounters()) }, []), "now", 5);
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=&quot;1&quot;&gt;");
    expect(html).toContain("a&lt;b");
    expect(html).toContain("no data yet");
  });
});
