/**
 * `GET /__brim/`: the tenant's stats as one HTML page with inline SVG charts, rendered here
 * (no script, no CDN, `Content-Security-Policy: default-src 'none'`), reloading itself every
 * STATS_PAGE_REFRESH_SECONDS. Pure: report in, HTML out.
 */
import { OBJECT_KINDS, type RouteReport } from "./counters";
import type { SeriesPoint, StatsReport } from "./object";

const WIDTH = 560;
const HEIGHT = 160;
const PAD = 28;

interface Line {
  readonly label: string;
  readonly color: string;
  readonly values: readonly (number | null)[];
}

export function renderStatsPage(tenantId: string, report: StatsReport, atIso: string, refreshSeconds: number): string {
  const series = report.series;
  const ratio = series.map((p) => (p.requests === 0 ? null : p.hits / p.requests));
  const charts = [
    chart("hit-ratio", "Hit ratio", [{ label: "hits / requests", color: "#2a7", values: ratio }], series, 1),
    chart(
      "offload",
      "Origin offload",
      [
        { label: "requests", color: "#36c", values: series.map((p) => p.requests) },
        { label: "origin fetches", color: "#c63", values: series.map((p) => p.originFetches) },
      ],
      series,
    ),
    chart(
      "latency",
      "Origin latency (ms, bucket bounds)",
      [
        { label: "p50", color: "#36c", values: series.map((p) => p.p50) },
        { label: "p99", color: "#c33", values: series.map((p) => p.p99) },
      ],
      series,
    ),
  ];
  const rows = Object.entries(report.routes)
    .map(([route, r]) => row(route, r))
    .join("");
  const costRows = [...Object.entries(report.routes), ["all routes", report.total] as const]
    .map(([route, r]) => costRow(route, r))
    .join("");
  const perThousand = report.total.costs.objectCallsPer1000Requests;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${refreshSeconds}">
<title>Brim · ${escape(tenantId)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}section{display:inline-block;margin:0 16px 16px 0;vertical-align:top}
table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.legend span{margin-right:12px}svg{background:#fafafa;border:1px solid #ddd}</style></head>
<body><h1>Brim · <span id="tenant">${escape(tenantId)}</span></h1>
<p>At ${escape(atIso)} · ${report.total.requests} requests · hit ratio ${pct(report.total.hitRatio)} · origin fetches ${report.total.originFetches} · compression saved ${report.total.compressionBytesSaved} bytes · refreshes every ${refreshSeconds} s</p>
${charts.join("\n")}
<h2>Routes</h2>
<table id="routes"><tr><th>route</th><th>requests</th><th>hit ratio</th><th>stale</th><th>collapsed</th><th>origin fetches</th><th>p50 ms</th><th>p99 ms</th><th>auth rejections</th><th>bytes saved</th></tr>${rows}</table>
<h2>Platform costs</h2>
<p>Durable Object calls per 1,000 requests: <b id="do-per-1000">${perThousand ?? "–"}</b> (background work counts for the request that started it)</p>
<table id="costs"><tr><th>route</th>${OBJECT_KINDS.map((k) => `<th>DO ${k}</th>`).join("")}<th>DO per 1,000 requests</th><th>cache reads</th><th>cache writes</th><th>memory hits</th><th>origin fetches</th></tr>${costRows}</table>
</body></html>
`;
}

function row(route: string, r: RouteReport): string {
  const auth = Object.entries(r.authRejections)
    .map(([reason, n]) => `${escape(reason)}: ${n}`)
    .join(", ");
  const cells = [
    r.requests,
    pct(r.hitRatio),
    r.staleServed,
    r.collapsed,
    r.originFetches,
    r.originLatencyMs.p50 ?? "–",
    r.originLatencyMs.p99 ?? "–",
    auth || "–",
    r.compressionBytesSaved,
  ];
  return `<tr><td>${escape(route)}</td>${cells.map((c) => `<td>${escape(String(c))}</td>`).join("")}</tr>`;
}

function costRow(route: string, r: RouteReport): string {
  const c = r.costs;
  const cells = [
    ...OBJECT_KINDS.map((kind) => c.objectCalls[kind] ?? 0),
    c.objectCallsPer1000Requests ?? "–",
    c.cacheReads,
    c.cacheWrites,
    c.memoryHits,
    c.originFetches,
  ];
  return `<tr><td>${escape(route)}</td>${cells.map((cell) => `<td>${escape(String(cell))}</td>`).join("")}</tr>`;
}

/** A line chart over the series' steps; `max` fixes the y range (else the data's maximum). */
function chart(id: string, title: string, lines: readonly Line[], series: readonly SeriesPoint[], max?: number): string {
  const all = lines.flatMap((line) => line.values.filter((v): v is number => v !== null));
  const top = max ?? Math.max(1, ...all);
  const n = series.length;
  const x = (i: number) => PAD + (n <= 1 ? (WIDTH - 2 * PAD) / 2 : (i * (WIDTH - 2 * PAD)) / (n - 1));
  const y = (v: number) => HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD);
  const paths = lines.map((line) => {
    const points = line.values.flatMap((v, i) => (v === null ? [] : [[x(i), y(v)] as const]));
    const d = points.map(([px, py], i) => `${i === 0 ? "M" : "L"}${px.toFixed(1)},${py.toFixed(1)}`).join(" ");
    const dots = points.map(([px, py]) => `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${line.color}"/>`).join("");
    return `<path d="${d}" fill="none" stroke="${line.color}" stroke-width="2"/>${dots}`;
  });
  const legend = lines.map((line) => `<span style="color:${line.color}">■ ${escape(line.label)}</span>`).join("");
  const axis = `<line x1="${PAD}" y1="${HEIGHT - PAD}" x2="${WIDTH - PAD}" y2="${HEIGHT - PAD}" stroke="#999"/><line x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${HEIGHT - PAD}" stroke="#999"/>`;
  const labels = `<text x="2" y="${PAD + 4}" font-size="10">${fmt(top)}</text><text x="2" y="${HEIGHT - PAD + 4}" font-size="10">0</text>`;
  const empty = all.length === 0 ? `<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" fill="#999">no data yet</text>` : "";
  return `<section><h3>${escape(title)}</h3><div class="legend">${legend}</div>
<svg id="chart-${id}" data-points="${all.length}" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escape(title)}">${axis}${labels}${paths.join("")}${empty}</svg></section>`;
}

function pct(ratio: number | null): string {
  return ratio === null ? "–" : `${(ratio * 100).toFixed(1)}%`;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const SPECIAL = /[&<>"']/g;

function escape(text: string): string {
  return text.replace(SPECIAL, (c) => ESCAPES[c] ?? c);
}
