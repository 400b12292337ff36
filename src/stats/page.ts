/**
 * `GET /__brim/`: the tenant's stats as one HTML page with inline SVG charts (src/stats/chart.ts),
 * rendered here (no script, no CDN, `Content-Security-Policy: default-src 'none'`), reloading
 * itself every STATS_PAGE_REFRESH_SECONDS. Pure: report in, HTML out. docs/operations.md says
 * what each chart and table means.
 */
import { lineChart, escapeXml as escape, type Line } from "./chart";
import { OBJECT_KINDS, type RouteReport } from "./counters";
import type { StatsReport } from "./object";
import { CACHE_OUTCOMES, STATUS_CLASSES } from "./outcome";
import { bytes, count, ms, percent } from "./units";

/** Options of `renderStatsPage`. */
export interface StatsPageOptions {
  /** The heading: the tenant id. */
  readonly tenantId: string;
  readonly report: StatsReport;
  /** When the report was read (ISO 8601). */
  readonly atIso: string;
  readonly refreshSeconds: number;
  /** Length of one series step (STATS_SERIES_STEP_MS). */
  readonly stepMs: number;
  /** Routes listed in the table, most requests first (STATS_PAGE_TOP_ROUTES). */
  readonly topRoutes: number;
}

const STATUS_COLORS: Record<string, string> = { "1xx": "#888", "2xx": "#2a7", "3xx": "#36c", "4xx": "#d90", "5xx": "#c33" };
const OUTCOME_COLORS = ["#2a7", "#7c4", "#19b", "#36c", "#c63", "#a5c", "#d90", "#888", "#555", "#b77", "#ccc"];

/** What each Cache-Status outcome means (src/stats/outcome.ts), shown beside its count. */
const OUTCOME_MEANING: Record<string, string> = {
  hit: "fresh from the cache",
  stale: "served stale (stale-while-revalidate, max-stale, stale-if-error)",
  collapsed: "answered by another request's origin fetch",
  revalidated: "stored copy revalidated at the origin",
  "uri-miss": "nothing stored for the URL",
  "vary-miss": "stored, but for other Vary values",
  miss: "stored copy not usable",
  bypass: "route or credentials bypass the cache",
  method: "method the cache does not serve",
  request: "the request asked to skip the cache",
  none: "answered before the cache (auth refusals)",
};

export function renderStatsPage({ tenantId, report, atIso, refreshSeconds, stepMs, topRoutes }: StatsPageOptions): string {
  const series = report.series;
  const times = series.map((p) => p.t);
  const chart = (id: string, title: string, unit: Parameters<typeof lineChart>[0]["unit"], lines: Line[], max?: number) =>
    lineChart({ id, title, unit, times, stepMs, lines, ...(max !== undefined ? { max } : {}) });
  const total = report.total;
  const outcomesSeen = CACHE_OUTCOMES.filter((o) => (total.cacheOutcomes[o] ?? 0) > 0);
  const charts = [
    chart(
      "status",
      "Requests by status class",
      "count",
      STATUS_CLASSES.map((k) => ({ label: k, color: STATUS_COLORS[k] ?? "#888", values: series.map((p) => p.statusClasses[k] ?? 0) })),
    ),
    chart(
      "outcomes",
      "Requests by Cache-Status outcome",
      "count",
      outcomesSeen.map((o) => ({
        label: o,
        color: OUTCOME_COLORS[CACHE_OUTCOMES.indexOf(o)] ?? "#888",
        values: series.map((p) => p.cacheOutcomes[o] ?? 0),
      })),
    ),
    chart(
      "hit-ratio",
      "Hit ratio",
      "percent",
      [{ label: "hits / requests", color: "#2a7", values: series.map((p) => ratio(p.hits, p.requests)) }],
      1,
    ),
    chart("offload", "Origin offload", "count", [
      { label: "requests", color: "#36c", values: series.map((p) => p.requests) },
      { label: "origin fetches", color: "#c63", values: series.map((p) => p.originFetches) },
    ]),
    chart("latency", "Origin latency (bucket upper bounds)", "ms", [
      { label: "p50", color: "#36c", values: series.map((p) => p.p50) },
      { label: "p99", color: "#c33", values: series.map((p) => p.p99) },
    ]),
    chart("bytes", "Bytes served and saved by compression", "bytes", [
      { label: "served", color: "#36c", values: series.map((p) => p.bytesServed) },
      { label: "saved by compression", color: "#2a7", values: series.map((p) => p.bytesSaved) },
    ]),
    chart("errors", "Errors (origin, body, auth, coalescing)", "count", [
      { label: "errors", color: "#c33", values: series.map((p) => p.errors) },
    ]),
    chart("do-calls", "Durable Object calls per 1,000 requests", "per1000", [
      {
        label: "DO calls / 1,000 requests",
        color: "#a5c",
        values: series.map((p) => (p.requests === 0 ? null : (p.objectCalls * 1000) / p.requests)),
      },
    ]),
  ];
  const routes = Object.entries(report.routes)
    .sort(([a, ra], [b, rb]) => rb.requests - ra.requests || a.localeCompare(b))
    .slice(0, topRoutes);
  const hidden = Object.keys(report.routes).length - routes.length;
  const perThousand = total.costs.objectCallsPer1000Requests;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${refreshSeconds}">
<title>Brim · ${escape(tenantId)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}h3{margin:0 0 4px;font-size:15px}
.chart{display:inline-block;margin:0 16px 20px 0;vertical-align:top}svg{background:#fafafa;border:1px solid #ddd}
.legend{list-style:none;padding:0;margin:0 0 4px}.legend li{display:inline-block;margin-right:14px}.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}
table{border-collapse:collapse;margin-bottom:20px}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
form{display:inline}</style></head>
<body><h1>Brim · <span id="tenant">${escape(tenantId)}</span></h1>
<p>At ${escape(atIso)} · <b id="total-requests">${count(total.requests)} requests</b> · refreshes every ${refreshSeconds} s · times in UTC, one point per ${stepMs / 1000} s
<form method="post" action="/__brim/logout"><button>Log out</button></form></p>
${summary(total, perThousand)}
${charts.join("\n")}
<h2>Status classes</h2>
${table(
  "status-classes",
  ["status", "requests", "share"],
  STATUS_CLASSES.map((k) => [k, count(total.statusClasses[k] ?? 0), percent(ratio(total.statusClasses[k] ?? 0, total.requests))]),
)}
<h2>Cache-Status outcomes</h2>
${table(
  "cache-outcomes",
  ["outcome", "requests", "share", "meaning"],
  CACHE_OUTCOMES.map((o) => [
    o,
    count(total.cacheOutcomes[o] ?? 0),
    percent(ratio(total.cacheOutcomes[o] ?? 0, total.requests)),
    OUTCOME_MEANING[o] ?? "",
  ]),
)}
<h2>Errors by kind</h2>
${table("errors", ["kind", "group", "count"], errorRows(total))}
<h2>Top routes</h2>
${table(
  "routes",
  [
    "route",
    "requests",
    "hit ratio",
    "stale",
    "collapsed",
    "origin fetches",
    "p50",
    "p99",
    "4xx",
    "5xx",
    "bytes served",
    "bytes saved",
    "errors",
  ],
  routes.map(([route, r]) => routeRow(route, r)),
)}${hidden > 0 ? `<p>${count(hidden)} more routes not shown (the JSON at /__brim/stats has all).</p>` : ""}
<h2>Platform costs</h2>
<p>Durable Object calls per 1,000 requests: <b id="do-per-1000">${perThousand ?? "–"}</b> (background work counts for the request that started it)</p>
${table(
  "costs",
  ["route", ...OBJECT_KINDS.map((k) => `DO ${k}`), "DO per 1,000 requests", "cache reads", "cache writes", "memory hits", "origin fetches"],
  [...routes, ["all routes", total] as const].map(([route, r]) => costRow(route, r)),
)}
</body></html>
`;
}

function summary(total: RouteReport, perThousand: number | null): string {
  const cells: [string, string, string][] = [
    ["requests", "Requests", count(total.requests)],
    ["hit-ratio", "Hit ratio", percent(total.hitRatio)],
    ["origin-fetches", "Origin fetches", count(total.originFetches)],
    ["p50", "Origin p50", ms(total.originLatencyMs.p50)],
    ["p99", "Origin p99", ms(total.originLatencyMs.p99)],
    ["bytes-served", "Bytes served", bytes(total.bytesServed)],
    ["bytes-saved", "Saved by compression", bytes(total.compressionBytesSaved)],
    ["errors", "Errors", count(total.errorsTotal)],
    ["do-calls", "DO calls / 1,000 requests", perThousand === null ? "–" : String(perThousand)],
  ];
  return `<table id="summary"><tr>${cells.map(([, name]) => `<th>${name}</th>`).join("")}</tr><tr>${cells
    .map(([id, , value]) => `<td id="summary-${id}">${escape(value)}</td>`)
    .join("")}</tr></table>`;
}

/** Origin failures, body faults, auth failures by reason and coalescing fallbacks, most first. */
function errorRows(total: RouteReport): string[][] {
  const rows: [string, string, number][] = [
    ...Object.entries(total.errors).map(([kind, n]) => [kind, groupOf(kind), n] as [string, string, number]),
    ...Object.entries(total.authRejections).map(([reason, n]) => [`auth: ${reason}`, "auth failure", n] as [string, string, number]),
  ];
  rows.sort((a, b) => b[2] - a[2] || a[0].localeCompare(b[0]));
  return rows.length === 0 ? [["none", "–", "0"]] : rows.map(([kind, group, n]) => [kind, group, count(n)]);
}

function groupOf(kind: string): string {
  if (kind.startsWith("origin-error:")) return "origin error";
  if (kind === "coalesce-unavailable") return "coalescing fallback";
  if (kind === "internal-error") return "Brim bug";
  return "body integrity";
}

function routeRow(route: string, r: RouteReport): string[] {
  return [
    route,
    count(r.requests),
    percent(r.hitRatio),
    count(r.staleServed),
    count(r.collapsed),
    count(r.originFetches),
    ms(r.originLatencyMs.p50),
    ms(r.originLatencyMs.p99),
    count(r.statusClasses["4xx"] ?? 0),
    count(r.statusClasses["5xx"] ?? 0),
    bytes(r.bytesServed),
    bytes(r.compressionBytesSaved),
    count(r.errorsTotal),
  ];
}

function costRow(route: string, r: RouteReport): string[] {
  const c = r.costs;
  return [
    route,
    ...OBJECT_KINDS.map((kind) => count(c.objectCalls[kind] ?? 0)),
    c.objectCallsPer1000Requests === null ? "–" : String(c.objectCallsPer1000Requests),
    count(c.cacheReads),
    count(c.cacheWrites),
    count(c.memoryHits),
    count(c.originFetches),
  ];
}

function table(id: string, head: readonly string[], rows: readonly (readonly string[])[]): string {
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${escape(cell)}</td>`).join("")}</tr>`).join("");
  return `<table id="${id}"><tr>${head.map((h) => `<th>${escape(h)}</th>`).join("")}</tr>${body}</table>`;
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}
