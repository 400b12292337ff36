/**
 * The tenants file: the zod schema `loadConfig` validates against, and the JSON Schema
 * editors use (`npm run schema` writes it to schema/tenants.schema.json). Each concern has
 * its own schema file (config-tenant, config-route, config-cache); this one adds what needs
 * the whole file in view: tenant ids and hosts are unique across tenants.
 */
import { z } from "zod";
import { hostName, hostProblem } from "./config-host";
import { TENANT_ID, tenantSchema } from "./config-tenant";
import { expected, isRecord, show } from "./config-values";

export { cacheKeySchema, cacheSchema } from "./config-cache";
export { routeSchema } from "./config-route";
export { tenantSchema } from "./config-tenant";

export const configSchema = z
  .strictObject(
    {
      $schema: z
        .string({ error: expected("a string") })
        .optional()
        .meta({ description: "JSON Schema for editors; ignored by Brim." }),
      tenants: z
        .array(tenantSchema, { error: expected("a list of tenants") })
        .min(1, { error: "expected at least one tenant" })
        .meta({ description: "The sites Brim fronts; each Host header belongs to at most one tenant." }),
    },
    { error: expected('an object with a "tenants" list') },
  )
  // Runs even when some tenant is invalid, so a clash is reported together with everything else.
  .superRefine(checkAcrossTenants, { when: (payload) => isRecord(payload.value) })
  .meta({ title: "Brim tenants", description: "Tenants, their hosts, origins and routes, for the Brim edge cache." });

export type ConfigInput = z.input<typeof configSchema>;
export type ConfigOutput = z.output<typeof configSchema>;

/**
 * The input-side JSON Schema of the tenants file, with descriptions and defaults for editor
 * help. Cross-field rules (uniqueness, `override` needing values, path compilation) are not
 * expressible there; `loadConfig` still enforces them.
 */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: "input", target: "draft-2020-12" });
}

/**
 * Ids and hosts must be unique across tenants. The value may be partly invalid here (this
 * runs even when other checks failed), so only well-formed ids and hosts are compared.
 */
function checkAcrossTenants(value: unknown, ctx: z.RefinementCtx): void {
  if (!isRecord(value) || !Array.isArray(value.tenants)) return;
  const idOwners = new Map<string, number>();
  const hostOwners = new Map<string, { name: string; host: string }>();
  const firstHost = new Map<string, string>();
  value.tenants.forEach((tenant: unknown, t: number) => {
    if (!isRecord(tenant)) return;
    const id = typeof tenant.id === "string" && TENANT_ID.test(tenant.id) ? tenant.id : null;
    const name = id === null ? `tenants[${t}]` : `tenant ${show(id)}`;
    if (id !== null) {
      const first = idOwners.get(id);
      if (first === undefined) idOwners.set(id, t);
      else {
        const message = `duplicate tenant id ${show(id)} (also tenants[${first}])`;
        ctx.addIssue({ code: "custom", path: ["tenants", t, "id"], message });
      }
    }
    if (!Array.isArray(tenant.hosts)) return;
    // Repeats within one tenant are reported by the tenant's own schema. Ownership is by host
    // name: another tenant cannot take `victim.example:8443` from the owner of `victim.example`.
    const own = new Set<string>();
    tenant.hosts.forEach((host: unknown, h: number) => {
      if (typeof host !== "string" || hostProblem(host) !== null) return;
      const key = host.toLowerCase();
      const owned = hostName(key);
      const owner = hostOwners.get(owned);
      if (owner !== undefined && !own.has(owned)) {
        const message =
          owner.host === key
            ? `host ${show(key)} is already claimed by ${owner.name}, so ${name} cannot claim it`
            : `host ${show(key)}: ${show(owned)} (on any port) is already claimed by ${owner.name}, so ${name} cannot claim it`;
        ctx.addIssue({ code: "custom", path: ["tenants", t, "hosts", h], message });
      }
      own.add(owned);
      if (!hostOwners.has(owned)) firstHost.set(owned, key);
    });
    for (const owned of own) if (!hostOwners.has(owned)) hostOwners.set(owned, { name, host: firstHost.get(owned)! });
  });
}
