/**
 * One inline-SVG line chart for the stats page (pure): a time axis with HH:MM UTC tick labels,
 * a y axis with round ticks in the chart's unit, a legend naming each line, and its title.
 * No script, no external font or image: it renders under `default-src 'none'`.
 */
import { clock, niceCeiling, tick, unitLabel, type Unit } from "./units";

const WIDTH = 600;
const HEIGHT = 200;
/** Room for the y tick labels (left), the time labels (bottom) and the unit label. */
const LEFT = 64;
const RIGHT = 16;
const TOP = 12;
const BOTTOM = 36;
const Y_TICKS = 4;
const MAX_TIME_TICKS = 6;

export interface Line {
  readonly label: string;
  readonly color: string;
  readonly values: readonly (number | null)[];
}

export interface ChartOptions {
  readonly id: string;
  readonly title: string;
  readonly unit: Unit;
  /** Start of each series step, epoch ms (ascending), one per value of each line. */
  readonly times: readonly number[];
  readonly stepMs: number;
  readonly lines: readonly Line[];
  /** Fixed top of the y axis (1 for ratios); else a round number above the data's maximum. */
  readonly max?: number;
}

export function lineChart({ id, title, unit, times, stepMs, lines, max }: ChartOptions): string {
  const all = lines.flatMap((line) => line.values.filter((v): v is number => v !== null));
  const top = max ?? niceCeiling(Math.max(0, ...all));
  const first = times[0] ?? 0;
  const last = times[times.length - 1] ?? first;
  const span = Math.max(last - first, stepMs);
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const x = (t: number) => (times.length <= 1 ? LEFT + plotW / 2 : LEFT + ((t - first) / span) * plotW);
  const y = (v: number) => TOP + plotH - (Math.min(v, top) / top) * plotH;

  const yTicks = Array.from({ length: Y_TICKS + 1 }, (_, i) => (top * i) / Y_TICKS)
    .map((v) => {
      const py = y(v).toFixed(1);
      return `<line x1="${LEFT}" y1="${py}" x2="${WIDTH - RIGHT}" y2="${py}" stroke="#e4e4e4"/><text class="y-tick" x="${LEFT - 6}" y="${py}" dy="4" text-anchor="end" font-size="11">${escapeXml(tick(v, unit))}</text>`;
    })
    .join("");
  const every = Math.max(1, Math.ceil(times.length / MAX_TIME_TICKS));
  const xTicks = times
    .filter((_, i) => i % every === 0 || i === times.length - 1)
    .map((t) => {
      const px = x(t).toFixed(1);
      return `<line x1="${px}" y1="${TOP + plotH}" x2="${px}" y2="${TOP + plotH + 4}" stroke="#999"/><text class="x-tick" x="${px}" y="${TOP + plotH + 16}" text-anchor="middle" font-size="11">${clock(t)}</text>`;
    })
    .join("");
  const axes =
    `<line x1="${LEFT}" y1="${TOP + plotH}" x2="${WIDTH - RIGHT}" y2="${TOP + plotH}" stroke="#999"/>` +
    `<line x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${TOP + plotH}" stroke="#999"/>` +
    `<text class="x-label" x="${LEFT + plotW / 2}" y="${HEIGHT - 4}" text-anchor="middle" font-size="11">time (UTC)</text>` +
    `<text class="y-label" x="12" y="${TOP + plotH / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${TOP + plotH / 2})">${escapeXml(unitLabel(unit, stepMs))}</text>`;
  const paths = lines.map((line) => {
    const points = line.values.flatMap((v, i) => (v === null ? [] : [[x(times[i] ?? first), y(v)] as const]));
    const d = points.map(([px, py], i) => `${i === 0 ? "M" : "L"}${px.toFixed(1)},${py.toFixed(1)}`).join(" ");
    const dots = points.map(([px, py]) => `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${line.color}"/>`).join("");
    return `<path d="${d}" fill="none" stroke="${line.color}" stroke-width="2"/>${dots}`;
  });
  const legend = lines
    .map((line) => `<li><span class="swatch" style="background:${line.color}"></span>${escapeXml(line.label)}</li>`)
    .join("");
  const empty =
    all.length === 0 ? `<text x="${LEFT + plotW / 2}" y="${TOP + plotH / 2}" text-anchor="middle" fill="#999">no data yet</text>` : "";
  return `<section class="chart"><h3>${escapeXml(title)}</h3><ul class="legend" id="legend-${id}">${legend}</ul>
<svg id="chart-${id}" data-points="${all.length}" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeXml(title)}">${yTicks}${xTicks}${axes}${paths.join("")}${empty}</svg></section>`;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const SPECIAL = /[&<>"']/g;

/** Text for HTML or SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(SPECIAL, (c) => ESCAPES[c] ?? c);
}
