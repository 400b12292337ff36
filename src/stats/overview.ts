/**
 * The platform view (pure): every tenant's totals side by side and added up, from the reports of
 * their `StatsLog` objects. Bounded by the caller (STATS_PLATFORM_MAX_TENANTS objects read); the
 * page says how many tenants it left out.
 */
import { escapeXml as escape } from "./chart";
import type { StatsReport } from "./object";
import { CACHE_OUTCOMES, STATUS_CLASSES } from "./outcome";
import { bytes, count, percent } from "./units";

export interface TenantRow {
  readonly tenant: string;
  readonly requests: number;
  readonly hitRatio: number | null;
  readonly originFetches: number;
  readonly bytesServed: number;
  readonly bytesSaved: number;
  readonly errors: number;
  readonly statusClasses: Readonly<Record<string, number>>;
  readonly objectCallsPer1000Requests: number | null;
  /** The tenant's object could not be read (its row is zeros). */
  readonly unavailable?: true;
}

export interface PlatformReport {
  /** Tenants in the active config. */
  readonly tenantsKnown: number;
  /** Tenants whose objects were read (at most the bound). */
  readonly tenantsRead: number;
  readonly bound: number;
  /** Most requests first. */
  readonly tenants: readonly TenantRow[];
  readonly total: {
    readonly requests: number;
    readonly hits: number;
    readonly hitRatio: number | null;
    readonly originFetches: number;
    readonly bytesServed: number;
    readonly bytesSaved: number;
    readonly errors: number;
    readonly statusClasses: Readonly<Record<string, number>>;
    readonly cacheOutcomes: Readonly<Record<string, number>>;
    readonly objectCalls: number;
    readonly objectCallsPer1000Requests: number | null;
  };
}

export function platformReport(
  read: readonly { tenant: string; report: StatsReport | null }[],
  tenantsKnown: number,
  bound: number,
): PlatformReport {
  const statusClasses: Record<string, number> = Object.fromEntries(STATUS_CLASSES.map((k) => [k, 0]));
  const cacheOutcomes: Record<string, number> = Object.fromEntries(CACHE_OUTCOMES.map((k) => [k, 0]));
  let requests = 0;
  let hits = 0;
  let originFetches = 0;
  let bytesServed = 0;
  let bytesSaved = 0;
  let errors = 0;
  let objectCalls = 0;
  const tenants: TenantRow[] = read.map(({ tenant, report }) => {
    if (report === null)
      return {
        tenant,
        requests: 0,
        hitRatio: null,
        originFetches: 0,
        bytesServed: 0,
        bytesSaved: 0,
        errors: 0,
        statusClasses: {},
        objectCallsPer1000Requests: null,
        unavailable: true,
      };
    const t = report.total;
    requests += t.requests;
    hits += t.hits;
    originFetches += t.originFetches;
    bytesServed += t.bytesServed;
    bytesSaved += t.compressionBytesSaved;
    errors += t.errorsTotal;
    objectCalls += t.costs.objectCallsTotal;
    for (const [k, n] of Object.entries(t.statusClasses)) statusClasses[k] = (statusClasses[k] ?? 0) + n;
    for (const [k, n] of Object.entries(t.cacheOutcomes)) cacheOutcomes[k] = (cacheOutcomes[k] ?? 0) + n;
    return {
      tenant,
      requests: t.requests,
      hitRatio: t.hitRatio,
      originFetches: t.originFetches,
      bytesServed: t.bytesServed,
      bytesSaved: t.compressionBytesSaved,
      errors: t.errorsTotal,
      statusClasses: t.statusClasses,
      objectCallsPer1000Requests: t.costs.objectCallsPer1000Requests,
    };
  });
  tenants.sort((a, b) => b.requests - a.requests || a.tenant.localeCompare(b.tenant));
  return {
    tenantsKnown,
    tenantsRead: read.length,
    bound,
    tenants,
    total: {
      requests,
      hits,
      hitRatio: requests === 0 ? null : hits / requests,
      originFetches,
      bytesServed,
      bytesSaved,
      errors,
      statusClasses,
      cacheOutcomes,
      objectCalls,
      objectCallsPer1000Requests: requests === 0 ? null : Math.round((objectCalls * 1000 * 100) / requests) / 100,
    },
  };
}

export function renderPlatformPage(report: PlatformReport, atIso: string, refreshSeconds: number): string {
  const t = report.total;
  const left = report.tenantsKnown - report.tenantsRead;
  const rows = report.tenants
    .map((r) => [
      r.unavailable ? `${r.tenant} (unavailable)` : r.tenant,
      count(r.requests),
      percent(r.hitRatio),
      count(r.originFetches),
      count(r.statusClasses["4xx"] ?? 0),
      count(r.statusClasses["5xx"] ?? 0),
      bytes(r.bytesServed),
      bytes(r.bytesSaved),
      count(r.errors),
      r.objectCallsPer1000Requests === null ? "–" : String(r.objectCallsPer1000Requests),
    ])
    .map((cells) => `<tr>${cells.map((c) => `<td>${escape(c)}</td>`).join("")}</tr>`)
    .join("");
  const head = [
    "tenant",
    "requests",
    "hit ratio",
    "origin fetches",
    "4xx",
    "5xx",
    "bytes served",
    "bytes saved",
    "errors",
    "DO calls / 1,000 requests",
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${refreshSeconds}">
<title>Brim · platform</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}table{border-collapse:collapse;margin-bottom:20px}
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}form{display:inline}</style></head>
<body><h1>Brim · platform</h1>
<p>At ${escape(atIso)} · <b id="total-requests">${count(t.requests)} requests</b> over ${count(report.tenantsRead)} tenants · hit ratio <b id="total-hit-ratio">${percent(t.hitRatio)}</b> · origin fetches ${count(t.originFetches)} · bytes served ${bytes(t.bytesServed)} · saved by compression ${bytes(t.bytesSaved)} · errors ${count(t.errors)} · DO calls per 1,000 requests ${t.objectCallsPer1000Requests ?? "–"}
<form method="post" action="/__brim/logout"><button>Log out</button></form></p>
${left > 0 ? `<p id="bound">${count(left)} of ${count(report.tenantsKnown)} tenants not read (at most ${count(report.bound)} objects per view); Analytics Engine's SQL API has them all (docs/operations.md).</p>` : ""}
<h2>Status classes</h2><table id="status-classes"><tr>${STATUS_CLASSES.map((k) => `<th>${k}</th>`).join("")}</tr><tr>${STATUS_CLASSES.map((k) => `<td>${count(t.statusClasses[k] ?? 0)}</td>`).join("")}</tr></table>
<h2>Cache-Status outcomes</h2><table id="cache-outcomes"><tr>${CACHE_OUTCOMES.map((k) => `<th>${k}</th>`).join("")}</tr><tr>${CACHE_OUTCOMES.map((k) => `<td>${count(t.cacheOutcomes[k] ?? 0)}</td>`).join("")}</tr></table>
<h2>Tenants, most requests first</h2>
<table id="tenants"><tr>${head.map((h) => `<th>${escape(h)}</th>`).join("")}</tr>${rows}</table>
</body></html>
`;
}
