import { STATS_PAGE_REFRESH_SECONDS } from "../constants";
import { renderStatsPage } from "./page";
import type { StatsRecorder } from "./recorder";

/**
 * `GET /__brim/stats`: the tenant's totals per route and overall. This isolate's pending counts
 * are flushed first, so a caller sees at least everything this isolate answered; other isolates'
 * counts arrive within STATS_FLUSH_INTERVAL_MS of their traffic.
 */
export async function statsResponse(tenantId: string, stats: StatsRecorder, now: number): Promise<Response> {
  await stats.flush(tenantId, now);
  const totals = await stats.stub(tenantId).read();
  const body = { tenant: tenantId, at: new Date(now).toISOString(), ...totals };
  return new Response(`${JSON.stringify(body)}\n`, { headers: { "content-type": "application/json", "cache-control": "no-store" } });
}

/** `GET /__brim/`: the same numbers as an HTML page with charts (see page.ts). */
export async function statsPage(tenantId: string, stats: StatsRecorder, now: number): Promise<Response> {
  await stats.flush(tenantId, now);
  const report = await stats.stub(tenantId).read();
  const html = renderStatsPage(tenantId, report, new Date(now).toISOString(), STATS_PAGE_REFRESH_SECONDS);
  return new Response(html, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      // Inline styles and SVG only: nothing to load, nothing to run.
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    },
  });
}
