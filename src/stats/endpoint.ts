import { STATS_PAGE_REFRESH_SECONDS, STATS_PAGE_TOP_ROUTES, STATS_SERIES_STEP_MS } from "../constants";
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
  const html = renderStatsPage({
    tenantId,
    report,
    atIso: new Date(now).toISOString(),
    refreshSeconds: STATS_PAGE_REFRESH_SECONDS,
    stepMs: STATS_SERIES_STEP_MS,
    topRoutes: STATS_PAGE_TOP_ROUTES,
  });
  return htmlPage(html);
}

/**
 * An HTML answer of Brim's own: never stored; inline styles and SVG only, nothing to load,
 * nothing to run; forms post only to Brim itself; never framed (clickjacking).
 */
export function htmlPage(html: string, status = 200, headers?: HeadersInit): Response {
  const all = new Headers(headers);
  all.set("content-type", "text/html; charset=utf-8");
  all.set("cache-control", "no-store");
  all.set("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
  all.set("x-content-type-options", "nosniff");
  all.set("referrer-policy", "no-referrer");
  return new Response(html, { status, headers: all });
}
