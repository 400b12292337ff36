/** One entry of `tenants`: a site Brim fronts, found by Host header. */
import { z } from "zod";
import type { Tenant } from "./types";
import { adminSchema, tenantAuthSchema, toTenantAuth } from "./config-auth";
import { checkRouteAuth } from "./config-auth-routes";
import { hostProblem } from "./config-host";
import { observabilitySchema, requestLogOf } from "./config-observability";
import { routeSchema, toRoute } from "./config-route";
import { expected, flag, isRecord, normalizeOrigin, originSchema, reportDuplicates } from "./config-values";

/** Safe in logs, metrics labels, storage names and URLs without escaping. */
export const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const hostSchema = z.string({ error: expected("a host") }).superRefine((host, ctx) => {
  const why = hostProblem(host);
  if (why) ctx.addIssue({ code: "custom", message: why, input: host });
});

/** A tenant; later concerns (`auth`, `admin`) slot in here as fields. */
export const tenantSchema = z
  .strictObject(
    {
      id: z
        .string({ error: expected("a tenant id") })
        .regex(TENANT_ID, {
          error: expected('a tenant id of 1-63 lower-case letters, digits, "-" or "_", starting with a letter or digit'),
        })
        .meta({ description: "Unique tenant id, used in logs and stats.", examples: ["acme"] }),
      hosts: z
        .array(hostSchema, { error: expected("a list of hosts") })
        .min(1, { error: "expected at least one host" })
        .superRefine((hosts, ctx) => reportDuplicates(hosts, ctx, "host", "hosts", (h) => h.toLowerCase()))
        .meta({
          description: 'Host header values this tenant answers for: "host" or "host:port", case-insensitive.',
          examples: [["acme.example.com", "acme.localhost:8787"]],
        }),
      origin: originSchema("Origin base URL requests are forwarded to; a path prefix is kept."),
      preserveHost: flag("Send the client's Host header to the origin (routes may override).", false),
      routes: z
        .array(routeSchema, { error: expected("a list of routes") })
        .min(1, { error: "expected at least one route" })
        .meta({ description: "Tried in order; the first route whose path matches handles the request." }),
      auth: tenantAuthSchema.optional(),
      admin: adminSchema.optional(),
      observability: observabilitySchema.optional(),
    },
    { error: expected("a tenant object") },
  )
  // Runs even when a sibling field is invalid, so every problem is reported in one pass.
  .superRefine(checkRouteAuth, { when: (payload) => isRecord(payload.value) })
  .meta({ description: "A site Brim fronts, selected by the request's Host header." });

export type TenantConfig = z.output<typeof tenantSchema>;

/** Builds the normalized tenant: hosts lower-cased, routes indexed and defaulted. */
export function toTenant(tenant: TenantConfig): Tenant {
  const origin = normalizeOrigin(tenant.origin);
  const defaults = { origin, preserveHost: tenant.preserveHost };
  return {
    id: tenant.id,
    hosts: tenant.hosts.map((host) => host.toLowerCase()),
    origin,
    routes: tenant.routes.map((route, index) => toRoute(route, index, defaults)),
    // Absent rather than null when not configured, so configs without auth normalize as before.
    ...(tenant.auth ? { auth: toTenantAuth(tenant.auth) } : {}),
    ...(tenant.admin ? { admin: { tokenEnv: tenant.admin.tokenEnv } } : {}),
    ...(tenant.observability
      ? {
          observability: {
            serverTiming: tenant.observability.serverTiming,
            requestLog: requestLogOf(tenant.observability.requestLog),
          },
        }
      : {}),
  };
}
