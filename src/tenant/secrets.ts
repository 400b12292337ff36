/**
 * The Worker secrets a tenant names (the tenants file never holds a secret, only its name), so
 * a missing one is reported where an operator looks (start-up, `GET /__brim/platform/config`,
 * a `503` with the reason logged) instead of turning into a silent `401`.
 */
import type { Tenant } from "./types";

/** One secret a tenant's config names, and the field that names it. */
export interface NamedSecret {
  readonly secret: string;
  /** `admin.tokenEnv` or `auth.secretEnv`. */
  readonly field: "admin.tokenEnv" | "auth.secretEnv";
}

/** Every Worker secret `tenant` names, in config order. */
export function secretsNamed(tenant: Tenant): NamedSecret[] {
  const named: NamedSecret[] = [];
  if (tenant.admin) named.push({ secret: tenant.admin.tokenEnv, field: "admin.tokenEnv" });
  if (tenant.auth?.keys.kind === "secret") named.push({ secret: tenant.auth.keys.env, field: "auth.secretEnv" });
  return named;
}

/** The named secrets that are unset (or empty) in `env`, the Worker's bindings. */
export function missingSecrets(tenant: Tenant, env: Readonly<Record<string, unknown>>): NamedSecret[] {
  return secretsNamed(tenant).filter(({ secret }) => typeof env[secret] !== "string" || env[secret] === "");
}
