/**
 * Human units for the stats page (pure). Bytes use decimal multiples (1 KB = 1,000 bytes, as
 * Cloudflare's dashboards do); times under a second in ms; times of day as HH:MM UTC.
 */

/** The unit of a chart's y axis, and how its numbers are written. */
export type Unit = "count" | "percent" | "ms" | "bytes" | "per1000";

const BYTE_UNITS = ["B", "KB", "MB", "GB", "TB"] as const;
const GROUPED = new Intl.NumberFormat("en-US");

/** 1234567 → "1,234,567". */
export function count(n: number): string {
  return GROUPED.format(n);
}

/** A ratio (0…1) as "80.0%"; null (no requests) as "–". */
export function percent(ratio: number | null): string {
  return ratio === null ? "–" : `${(ratio * 100).toFixed(1)}%`;
}

/** 1536 → "1.5 KB"; under 1,000: "512 B". */
export function bytes(n: number): string {
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${BYTE_UNITS[unit]}`;
}

/** 20 → "20 ms"; 1500 → "1.5 s"; a string bound ("> 60000") or null as given / "–". */
export function ms(n: number | string | null): string {
  if (n === null) return "–";
  if (typeof n === "string") return `${n} ms`;
  return n >= 1000 ? `${n / 1000} s` : `${n} ms`;
}

/** Epoch ms → "14:05" (UTC). */
export function clock(t: number): string {
  return new Date(t).toISOString().slice(11, 16);
}

/** A y-axis tick label in the chart's unit (short: "2.5k", "1.2 MB", "50%"). */
export function tick(n: number, unit: Unit): string {
  switch (unit) {
    case "percent":
      return `${Math.round(n * 100)}%`;
    case "bytes":
      return bytes(n);
    case "ms":
      return ms(n);
    case "count":
    case "per1000":
      return n >= 1000 ? `${trim(n / 1000)}k` : trim(n);
  }
}

/** "per minute" for a 60 s step, else "per N s". */
export function perStep(stepMs: number): string {
  return stepMs === 60_000 ? "per minute" : `per ${stepMs / 1000} s`;
}

/** The unit's name beside the y axis; counts and bytes are per series step. */
export function unitLabel(unit: Unit, stepMs: number): string {
  switch (unit) {
    case "percent":
      return "% of requests";
    case "bytes":
      return `bytes ${perStep(stepMs)}`;
    case "ms":
      return "milliseconds";
    case "count":
      return perStep(stepMs);
    case "per1000":
      return "calls per 1,000 requests";
  }
}

function trim(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 1).replace(/\.?0+$/, "");
}

/** The smallest "nice" bound (1, 2, 2.5, 5 × 10^k) at or above `n`, so ticks are round numbers. */
export function niceCeiling(n: number): number {
  if (n <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= n) return step * power;
  return 10 * power;
}
