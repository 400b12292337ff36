/**
 * HTTP-date (RFC 9110 §5.6.7): parse all three historical formats, emit only IMF-fixdate.
 */

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;
const MONTH_INDEX: ReadonlyMap<string, number> = new Map(MONTHS.map((m, i) => [m.toLowerCase(), i]));

const DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const DAY_LONG = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
const MONTH = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";
// The grammar's names are case-sensitive (%s"..."); we accept any case since RFC 9110 §5.6.7
// asks recipients to be robust, and a lower-case "gmt" is not ambiguous. Each pattern is
// anchored and exact, unlike Date.parse, which accepts things like "1" or "Nov 1994".
// Groups: day, month, year, hour, minute, second (asctime reorders; see parseHttpDate).
/** IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE_RE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`, "i");
/** Obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT` */
const RFC850_RE = new RegExp(`^${DAY_LONG}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`, "i");
/** Obsolete asctime: `Sun Nov  6 08:49:37 1994` (day is `SP DIGIT` or `2DIGIT`). */
const ASCTIME_RE = new RegExp(`^${DAY} ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`, "i");

const MS_PER_SECOND = 1000;
/** RFC 9110 §5.6.7: an rfc850-date more than this far ahead is read as last century's. */
const RFC850_MAX_FUTURE_YEARS = 50;
const MAX_YEAR = 9999;

/**
 * Parses an HTTP-date (RFC 9110 §5.6.7) in IMF-fixdate, obsolete RFC 850 or asctime format.
 *
 * Strict: anything else, including out-of-range fields (`31 Feb`, `25:00:00`), returns null.
 * Callers decide what null means; for Expires, RFC 9111 §5.3 says an invalid date means
 * "already expired". The weekday must be a valid name but is not checked against the date:
 * the date fields are authoritative and a wrong weekday is a sender bug, not garbage.
 * Second 60 (leap second, allowed by the grammar) rolls into the next minute.
 *
 * @param value the field value, or null/undefined when absent. Surrounding whitespace is
 *   ignored.
 * @param nowMs the current time, used only for a two-digit RFC 850 year: RFC 9110 §5.6.7
 *   reads a year that appears more than 50 years in the future as the most recent past year
 *   with the same last two digits. Defaults to `Date.now()`.
 * @returns epoch milliseconds, or null when the value is not a valid HTTP-date.
 */
export function parseHttpDate(value: string | null | undefined, nowMs: number = Date.now()): number | null {
  if (value == null) return null;
  const s = value.trim();
  let m = IMF_FIXDATE_RE.exec(s);
  if (m !== null) return build(m[3], m[2], m[1], m[4], m[5], m[6]);
  m = ASCTIME_RE.exec(s);
  if (m !== null) return build(m[6], m[1], m[2], m[3], m[4], m[5]);
  m = RFC850_RE.exec(s);
  if (m === null) return null;
  const nowYear = new Date(nowMs).getUTCFullYear();
  // Pick the year with these last two digits in the window (now-50, now+50]: never more
  // than 50 years ahead, as required, and otherwise the nearest such year.
  let year = nowYear - (nowYear % 100) + Number(m[3]);
  if (year > nowYear + RFC850_MAX_FUTURE_YEARS) year -= 100;
  else if (year <= nowYear - RFC850_MAX_FUTURE_YEARS) year += 100;
  return build(String(year), m[2], m[1], m[4], m[5], m[6]);
}

/**
 * Formats epoch milliseconds as an IMF-fixdate (RFC 9110 §5.6.7), the only format a sender
 * may generate. Sub-second precision is dropped (floored), as HTTP-dates have none.
 *
 * @throws RangeError when `ms` is not finite or falls outside years 0000–9999, which the
 *   format's four-digit year cannot express.
 */
export function formatHttpDate(ms: number): string {
  const d = new Date(Math.floor(ms / MS_PER_SECOND) * MS_PER_SECOND);
  const year = d.getUTCFullYear();
  if (!Number.isFinite(d.getTime()) || year < 0 || year > MAX_YEAR) {
    throw new RangeError(`formatHttpDate: ${ms} is not representable as an HTTP-date`);
  }
  return (
    `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate(), 2)} ${MONTHS[d.getUTCMonth()]} ` +
    `${pad(year, 4)} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:` +
    `${pad(d.getUTCSeconds(), 2)} GMT`
  );
}

// Regex groups are typed `string | undefined`; every caller passes groups that are
// mandatory in its pattern, so undefined never reaches Number() here in practice.
function build(
  yearText: string | undefined,
  monthText: string | undefined,
  dayText: string | undefined,
  hourText: string | undefined,
  minuteText: string | undefined,
  secondText: string | undefined,
): number | null {
  const month = MONTH_INDEX.get((monthText ?? "").toLowerCase());
  const year = Number(yearText);
  const day = Number(dayText); // " 6" (asctime) converts to 6
  const hour = Number(hourText);
  const minute = Number(minuteText);
  const second = Number(secondText);
  if (month === undefined || hour > 23 || minute > 59 || second > 60) return null;
  // setUTCFullYear rather than Date.UTC, which maps years 0–99 to 1900–1999.
  const d = new Date(0);
  d.setUTCFullYear(year, month, day);
  // A day past the month's end (31 Feb) rolls over; catching the roll rejects it.
  if (day < 1 || d.getUTCMonth() !== month || d.getUTCDate() !== day) return null;
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}
