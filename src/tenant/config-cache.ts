/** A route's `cache` block: what is stored, for how long, and under which key. */
import { z } from "zod";
import { COALESCE_WAIT_SLACK_MS, DEFAULT_MAX_OBJECT_BYTES, LOCATION_HINTS, MAX_COALESCE_WAIT_MS } from "../constants";
import type { CacheKeyPolicy, CachePolicy } from "./types";
import { expected, flag, intRange, isRecord, reportDuplicates, seconds, show } from "./config-values";
import { checkForwardUnkeyed, cookiesSchema, forwardUnkeyedSchema } from "./config-forward";

/** Upper bound on `ttlJitter`: beyond half the lifetime, freshness would be mostly chance. */
export const MAX_TTL_JITTER = 0.5;

const jitterError = expected(`a number from 0 to ${MAX_TTL_JITTER}`);

/** RFC 9110 §5.6.2 token: the characters a field name may use. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Request headers that carry credentials. Keying on them would copy secrets into cache keys
 * (visible to anything that lists keys) and give every user a private copy anyway.
 */
const CREDENTIAL_HEADERS = new Set(["authorization", "proxy-authorization", "cookie"]);

const queryName = z.string({ error: expected("a query parameter name") }).min(1, { error: "expected a non-empty query parameter name" });

const queryNames = z
  .array(queryName, { error: expected('"all", "none" or a list of query parameter names') })
  .min(1, { error: 'expected at least one name; use "none" to leave the query out of the key' })
  .superRefine((names, ctx) => reportDuplicates(names, ctx, "query parameter", "query"));

const headerName = z
  .string({ error: expected("a header name") })
  .regex(TOKEN, { error: expected("a header name (RFC 9110 token characters)") })
  .superRefine((name, ctx) => {
    if (!CREDENTIAL_HEADERS.has(name.toLowerCase())) return;
    const message = `header ${show(name)} must not be part of a cache key: it would put raw credentials into the key`;
    ctx.addIssue({ code: "custom", message, input: name });
  });

/** Which parts of the request, beyond method and path, tell cached responses apart. */
export const cacheKeySchema = z
  .strictObject(
    {
      query: z
        .union([z.literal("all"), z.literal("none"), queryNames], {
          error: expected('"all", "none" or a list of query parameter names'),
        })
        .default("all")
        .meta({
          description: 'Query parameters in the key: "all" (order-insensitive), "none", or only the listed names.',
        }),
      headers: z
        .array(headerName, { error: expected("a list of header names") })
        .superRefine((names, ctx) => reportDuplicates(names, ctx, "header", "headers", (n) => n.toLowerCase()))
        .default([])
        .meta({
          description:
            "Request headers whose values enter the key (case-insensitive), and so are forwarded to the origin. Credentials are not allowed.",
        }),
      claims: z
        .array(z.string({ error: expected("a claim name") }).min(1, { error: "expected a non-empty claim name" }), {
          error: expected("a list of claim names"),
        })
        .superRefine((names, ctx) => reportDuplicates(names, ctx, "claim", "claims"))
        .optional()
        .meta({ description: "Verified JWT claims whose values enter the key (one entry per value, never per token); needs route auth." }),
    },
    { error: expected("an object") },
  )
  .meta({ description: "What tells cached responses apart, beyond method and path." });

const coalesceObject = z.strictObject(
  {
    waitMs: intRange(1, MAX_COALESCE_WAIT_MS, `an integer from 1 to ${MAX_COALESCE_WAIT_MS} (milliseconds)`).optional().meta({
      description: "How long a request waits for a shared origin fetch before fetching itself. Default: the route's timeoutMs plus 1 s.",
    }),
    locationHint: z
      .enum(LOCATION_HINTS, { error: expected(`one of ${LOCATION_HINTS.join(", ")}`) })
      .optional()
      .meta({
        description:
          "Cloudflare region for each key's global coalescing object (the one that fetches the origin): put it near the origin. Applies when an object is first created. Default: near its first caller.",
      }),
  },
  { error: expected("true, false or an object") },
);

/** Request coalescing: `true` (default), `false`, or `{ waitMs, locationHint }`. */
const coalesceSchema = z
  .union([z.boolean(), coalesceObject], { error: expected("true, false or an object") })
  .default(true)
  .meta({ description: "Collapse concurrent misses and revalidations of one key into one origin fetch (through a Durable Object)." });

/** How a route caches; later concerns (e.g. `coalesce`) slot in here as fields. */
export const cacheSchema = z
  .strictObject(
    {
      ttl: seconds("Seconds of freshness when the origin gives none (or always, with override)."),
      staleWhileRevalidate: seconds(
        "RFC 5861 stale-while-revalidate window in seconds, when the origin gives none (or always, with override).",
      ),
      staleIfError: seconds("RFC 5861 stale-if-error window in seconds, when the origin gives none (or always, with override)."),
      override: flag("Use ttl and the stale windows instead of the origin's, not just to fill gaps.", false),
      ignoreRequestDirectives: flag("Ignore client Cache-Control request directives (no-cache, max-age, ...).", false),
      ttlJitter: z
        .number({ error: jitterError })
        .min(0, { error: jitterError })
        .max(MAX_TTL_JITTER, { error: jitterError })
        .default(0)
        .meta({ description: "Fraction of the freshness lifetime removed at random per entry, to spread refreshes." }),
      maxObjectBytes: intRange(1, Number.MAX_SAFE_INTEGER, "a positive integer (bytes)")
        .default(DEFAULT_MAX_OBJECT_BYTES)
        .meta({ description: "Responses larger than this many bytes are passed through, not stored." }),
      key: cacheKeySchema.prefault({}),
      coalesce: coalesceSchema,
      cookies: cookiesSchema,
      forwardUnkeyed: forwardUnkeyedSchema,
    },
    { error: expected("a cache object") },
  )
  // Runs even when a sibling field is invalid, so every problem is reported in one pass.
  .superRefine(checkOverride, { when: (payload) => isRecord(payload.value) })
  .superRefine(checkForwardUnkeyed, { when: (payload) => isRecord(payload.value) })
  .meta({ description: "Caching for this route; false disables it." });

export type CacheConfig = z.output<typeof cacheSchema>;

/**
 * Builds the normalized policy; fields the config leaves out are `null`, never `undefined`.
 * `timeoutMs` is the route's, which the default coalescing wait is derived from.
 */
export function toCachePolicy(cache: CacheConfig, timeoutMs: number): CachePolicy {
  const options = cache.coalesce === true || cache.coalesce === false ? {} : cache.coalesce;
  const coalesce =
    cache.coalesce === false
      ? null
      : { waitMs: options.waitMs ?? timeoutMs + COALESCE_WAIT_SLACK_MS, locationHint: options.locationHint ?? null };
  return {
    ttlSeconds: cache.ttl ?? null,
    staleWhileRevalidateSeconds: cache.staleWhileRevalidate ?? null,
    staleIfErrorSeconds: cache.staleIfError ?? null,
    override: cache.override,
    key: {
      query: toQueryPolicy(cache.key.query),
      headers: cache.key.headers.map((h) => h.toLowerCase()),
      // Absent unless configured, so configs without auth normalize exactly as before.
      ...(cache.key.claims?.length ? { claims: [...cache.key.claims] } : {}),
    },
    ignoreRequestDirectives: cache.ignoreRequestDirectives,
    ttlJitter: cache.ttlJitter,
    maxObjectBytes: cache.maxObjectBytes,
    coalesce,
    cookies: cache.cookies,
    forwardUnkeyed: Object.keys(cache.forwardUnkeyed).map((h) => h.toLowerCase()),
  };
}

function toQueryPolicy(query: CacheConfig["key"]["query"]): CacheKeyPolicy["query"] {
  if (query === "all" || query === "none") return { mode: query };
  return { mode: "allow", names: [...query] };
}

function checkOverride(value: unknown, ctx: z.RefinementCtx): void {
  if (!isRecord(value) || value.override !== true) return;
  const given = ["ttl", "staleWhileRevalidate", "staleIfError"].some((k) => value[k] !== undefined);
  if (given) return;
  ctx.addIssue({
    code: "custom",
    path: ["override"],
    message: "override is true but none of ttl, staleWhileRevalidate, staleIfError is set: nothing to override with",
  });
}
