/**
 * What of a request may shape a cacheable route's shared responses: the route's `cookies`
 * policy and the headers it forwards to the origin without keying on them (`forwardUnkeyed`).
 * The default forwarded headers are `SHARED_FETCH_REQUEST_HEADERS`; keyed ones are
 * `key.headers` (config-cache.ts).
 */
import { z } from "zod";
import { OVERRIDE_REQUEST_HEADERS, SHARED_FETCH_REQUEST_HEADERS } from "../constants";
import { HOP_BY_HOP } from "../http/headers";
import { expected, isRecord, show } from "./config-values";

/** RFC 9110 §5.6.2 token: the characters a field name may use. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NOT_BLANK = /\S/;
const X_FORWARDED_PREFIX = "x-forwarded-";
const ALWAYS_FORWARDED = new Set(SHARED_FETCH_REQUEST_HEADERS);
const ALWAYS_REMOVED = new Set([...OVERRIDE_REQUEST_HEADERS, "host"]);

/** `cache.cookies`: what a request carrying `Cookie` does on a cacheable route. */
export const cookiesSchema = z
  .enum(["bypass", "ignore"], { error: expected('"bypass" or "ignore"') })
  .default("bypass")
  .meta({
    description:
      'Requests with a Cookie: "bypass" proxies them uncached, cookie and all (Cache-Status detail=cookie); "ignore" states the origin does not use cookies for these responses, so Brim drops the Cookie and caches as usual.',
  });

const reasonSchema = z
  .string({ error: expected("a reason: why the origin's response does not depend on this header") })
  .regex(NOT_BLANK, { error: "expected a non-empty reason: why the origin's response does not depend on this header" });

/** `cache.forwardUnkeyed`: header name → why the origin's response does not depend on it. */
export const forwardUnkeyedSchema = z
  .record(z.string(), reasonSchema, { error: expected("an object of header name → reason") })
  .superRefine((record, ctx) => {
    const seen = new Map<string, string>();
    for (const name of Object.keys(record)) {
      const why = forwardProblem(name, seen.get(name.toLowerCase()));
      if (why) ctx.addIssue({ code: "custom", path: [name], message: why, input: name });
      seen.set(name.toLowerCase(), name);
    }
  })
  .default({})
  .meta({
    description:
      "Request headers sent to the origin on cacheable fetches although not in the key, each with the reason the origin's response does not depend on it (logging, tracing). A header the response depends on belongs in key.headers instead.",
    examples: [{ "x-request-id": "only logged" }],
  });

function forwardProblem(name: string, earlier: string | undefined): string | null {
  const lower = name.toLowerCase();
  if (!TOKEN.test(name)) return `expected a header name (RFC 9110 token characters), got ${show(name)}`;
  if (earlier !== undefined) return `duplicate header ${show(name)} (also ${show(earlier)})`;
  if (lower === "cookie") return 'Cookie is not forwarded unkeyed: use cache.cookies ("bypass" or "ignore")';
  if (ALWAYS_FORWARDED.has(lower))
    return `header ${show(name)} is always forwarded (see docs/security.md "Shared responses"): remove it here`;
  if (HOP_BY_HOP.has(lower)) return `header ${show(name)} is hop-by-hop (RFC 9110 §7.6.1) and never forwarded`;
  if (ALWAYS_REMOVED.has(lower) || lower.startsWith(X_FORWARDED_PREFIX)) {
    return `header ${show(name)} is removed on every route (an override header, or one Brim sets itself)`;
  }
  return null;
}

/**
 * Cache-level check: a header in `key.headers` is already forwarded (and keyed); naming it in
 * `forwardUnkeyed` too would state two contradicting things about it.
 */
export function checkForwardUnkeyed(value: unknown, ctx: z.RefinementCtx): void {
  if (!isRecord(value) || !isRecord(value.forwardUnkeyed) || !isRecord(value.key) || !Array.isArray(value.key.headers)) return;
  const keyed = new Set(value.key.headers.filter((h): h is string => typeof h === "string").map((h) => h.toLowerCase()));
  for (const name of Object.keys(value.forwardUnkeyed)) {
    if (!keyed.has(name.toLowerCase())) continue;
    const message = `header ${show(name)} is in key.headers, so it is already forwarded (and keyed): remove it here`;
    ctx.addIssue({ code: "custom", path: ["forwardUnkeyed", name], message, input: name });
  }
}
