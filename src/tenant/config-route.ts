/** One entry of a tenant's `routes`: which paths it covers and how they are proxied. */
import { z } from "zod";
import { DEFAULT_BODY_IDLE_TIMEOUT_MS, DEFAULT_ORIGIN_TIMEOUT_MS } from "../constants";
import type { Route } from "./types";
import { routeAuthSchema, routeScopesSchema } from "./config-auth";
import { cacheSchema, toCachePolicy } from "./config-cache";
import { compressionSchema, toCompressionPolicy } from "./config-compression";
import { routePathProblem } from "./config-path";
import { expected, intRange, normalizeOrigin, originSchema } from "./config-values";

/** Upper bound on `timeoutMs`: ten minutes, well past any origin worth waiting for. */
export const MAX_ORIGIN_TIMEOUT_MS = 600_000;

const pathSchema = z
  .string({ error: expected("a route path") })
  .superRefine((path, ctx) => {
    const why = routePathProblem(path);
    if (why) ctx.addIssue({ code: "custom", message: why, input: path });
  })
  .meta({
    description: 'Hono path pattern: literal segments, ":name", ":name{regex}", and an optional final "/*"; "*" alone matches everything.',
    examples: ["/api/*", "/users/:id", "/files/:name{[a-z0-9-]+\\.png}", "/*"],
  });

/** A route; later concerns (`auth`, `scopes`, `compression`) slot in here as fields. */
export const routeSchema = z
  .strictObject(
    {
      path: pathSchema,
      origin: originSchema("Origin base URL for this route, instead of the tenant's.").optional(),
      timeoutMs: intRange(1, MAX_ORIGIN_TIMEOUT_MS, `an integer from 1 to ${MAX_ORIGIN_TIMEOUT_MS}`)
        .default(DEFAULT_ORIGIN_TIMEOUT_MS)
        .meta({ description: "Milliseconds to wait for the origin's response headers." }),
      bodyIdleTimeoutMs: intRange(1, MAX_ORIGIN_TIMEOUT_MS, `an integer from 1 to ${MAX_ORIGIN_TIMEOUT_MS}`)
        .default(DEFAULT_BODY_IDLE_TIMEOUT_MS)
        .meta({
          description:
            "Milliseconds to wait between two reads of the origin's body; past it the body is aborted for every reader and nothing is stored.",
        }),
      preserveHost: z
        .boolean({ error: expected("true or false") })
        .optional()
        .meta({ description: "Send the client's Host header to the origin. Defaults to the tenant's setting." }),
      cache: z
        .union([z.literal(false), cacheSchema], { error: expected("false or a cache object") })
        .prefault({})
        .meta({ description: "Caching for this route; false disables it. Omitted means the defaults." }),
      auth: routeAuthSchema,
      scopes: routeScopesSchema,
      compression: compressionSchema,
      ambiguousPaths: z
        .enum(["reject", "forward"], { error: expected('"reject" or "forward"') })
        .default("reject")
        .meta({
          description:
            'Paths origins read differently (%2F, %5C, "\\", dot or empty segments, ";" parameters, %25XX): "reject" answers 400; "forward" sends them to the origin as they are, for origins that need them (the origin must treat them as data; see docs/security.md "One canonical path").',
        }),
      websocket: z
        .boolean({ error: expected("true or false") })
        .default(false)
        .meta({
          description:
            'Proxy WebSocket handshakes (GET with "Upgrade: websocket") to the origin: never cached, auth still applies. When false, Upgrade is dropped as a hop-by-hop field and the request is answered as plain HTTP.',
        }),
    },
    { error: expected("a route object") },
  )
  .meta({ description: "A path pattern and how matching requests are proxied and cached." });

export type RouteConfig = z.output<typeof routeSchema>;

/** What a route inherits from its tenant when it does not say otherwise. */
export interface RouteDefaults {
  readonly origin: string;
  readonly preserveHost: boolean;
}

/** Builds the normalized route at position `index` of its tenant's list. */
export function toRoute(route: RouteConfig, index: number, defaults: RouteDefaults): Route {
  return {
    path: route.path,
    index,
    origin: route.origin === undefined ? defaults.origin : normalizeOrigin(route.origin),
    timeoutMs: route.timeoutMs,
    bodyIdleTimeoutMs: route.bodyIdleTimeoutMs,
    cache: route.cache === false ? null : toCachePolicy(route.cache, route.timeoutMs),
    preserveHost: route.preserveHost ?? defaults.preserveHost,
    compression: toCompressionPolicy(route.compression),
    // Absent for "none", so configs without auth normalize exactly as before.
    ...(route.auth === "none" ? {} : { auth: { mode: route.auth, scopes: [...(route.scopes ?? [])] } }),
    ...(route.ambiguousPaths === "forward" ? { ambiguousPaths: "forward" as const } : {}),
    ...(route.websocket ? { websocket: true as const } : {}),
  };
}
