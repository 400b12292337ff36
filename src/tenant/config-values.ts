/**
 * Building blocks shared by the config schemas: how values are quoted in problem messages,
 * and the small value schemas (seconds, flags, origin URLs) more than one concern uses.
 */
import { z } from "zod";

/** Longest string quoted verbatim in a problem message; longer ones are cut with "...". */
const MAX_QUOTED_CHARS = 80;

/** Renders a config value for a problem message: strings quoted, containers by kind only. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null || typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string") {
    const cut = value.length > MAX_QUOTED_CHARS ? `${value.slice(0, MAX_QUOTED_CHARS - 3)}...` : value;
    return JSON.stringify(cut);
  }
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * A zod error function yielding "expected <what>, got <value>", or "missing required field"
 * when the key is absent (zod reports absence as an `undefined` input).
 */
export function expected(what: string): (issue: { readonly input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? "missing required field" : `expected ${what}, got ${show(issue.input)}`);
}

/** An optional boolean flag; `fallback` is shown to editors and filled in by zod. */
export function flag(description: string, fallback: boolean) {
  return z
    .boolean({ error: expected("true or false") })
    .default(fallback)
    .meta({ description });
}

/** An optional number of seconds (no default: absent means "not configured"). */
export function seconds(description: string) {
  const error = expected("a non-negative integer");
  return z.number({ error }).int({ error }).min(0, { error }).optional().meta({ description });
}

/** An integer within [min, max], with one message for every way of missing it. */
export function intRange(min: number, max: number, what: string) {
  const error = expected(what);
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

const HTTP_SCHEME = /^https?:\/\//i;

/**
 * Why `text` is not a usable origin base URL, or null. An origin is where requests are
 * forwarded to, so it must be an absolute http(s) URL; a query or fragment would be mangled
 * by appending the request path, and credentials in config would leak into logs.
 */
export function originProblem(text: string): string | null {
  const url = HTTP_SCHEME.test(text) && URL.canParse(text) ? new URL(text) : null;
  if (!url || url.hostname === "") return `expected an http(s) URL, got ${show(text)}`;
  if (url.username !== "" || url.password !== "") {
    return "an origin URL must not contain credentials; send them from the origin side instead";
  }
  if (text.includes("?")) return `an origin URL must not have a query, got ${show(text)}`;
  if (text.includes("#")) return `an origin URL must not have a fragment, got ${show(text)}`;
  return null;
}

/**
 * The canonical form of a valid origin: scheme and host lower-cased, default port dropped,
 * no trailing slash, so the request path can be appended as is ("http://h/base" + "/x").
 */
export function normalizeOrigin(text: string): string {
  const url = new URL(text);
  return `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, "");
}

/** An origin base URL; checked here, normalized by `normalizeOrigin` when the config is built. */
export function originSchema(description: string) {
  return z
    .string({ error: expected("an http(s) URL") })
    .superRefine((text, ctx) => {
      const why = originProblem(text);
      if (why) ctx.addIssue({ code: "custom", message: why, input: text });
    })
    .meta({ description, examples: ["https://origin.example.com", "http://127.0.0.1:9000/base"] });
}

/**
 * Adds a problem at each repeat of an earlier item of the list named `field`; items are
 * compared by `identity` (e.g. lower-cased for case-insensitive names).
 */
export function reportDuplicates(
  items: readonly string[],
  ctx: z.RefinementCtx,
  what: string,
  field: string,
  identity: (item: string) => string = (item) => item,
): void {
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const first = seen.get(identity(item));
    if (first === undefined) {
      seen.set(identity(item), index);
      return;
    }
    const message = `duplicate ${what} ${show(item)} (also ${field}[${first}])`;
    ctx.addIssue({ code: "custom", path: [index], message });
  });
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
