/**
 * Reads and validates a tenants file exactly as the worker will (`parseConfigText`), so a bad
 * file is reported on the command line instead of as a 503 after start or deploy.
 */
import { readFileSync } from "node:fs";
import type { BrimConfig, Tenant } from "../../src/tenant/types";
import { ConfigError, loadTenant, parseConfigText, parseJsonText } from "../../src/tenant/load";
import { type NamedSecret as TenantSecret, secretsNamed } from "../../src/tenant/secrets";
import { fail } from "./cli";

export interface TenantsFile {
  config: BrimConfig;
  /** Compact JSON for the platform API (`PUT /__brim/platform/config`); `$schema` (editor-only) is left out. */
  json: string;
}

export interface TenantFile {
  tenant: Tenant;
  /** Compact JSON for `PUT /__brim/platform/tenants/{id}`. */
  json: string;
}

/** A Worker secret a tenant names (the file holds its name, never its value), and which tenant. */
export interface NamedSecret extends TenantSecret {
  readonly tenant: string;
}

/**
 * Loads `file`, optionally rewriting its text first (demo ports), and validates it. On any
 * problem prints `brim: <file>: invalid config` and one `path: reason` line per problem to
 * stderr, then exits 1.
 */
export function loadTenantsFile(file: string, rewrite: (text: string) => string = (text) => text): TenantsFile {
  const text = rewrite(readText(file));
  try {
    const config = parseConfigText(text);
    // parseConfigText accepted it, so this parse cannot throw; only the BOM needs stripping.
    const { $schema: _editorOnly, ...raw } = JSON.parse(text.replace(/^\uFEFF/, "")) as Record<string, unknown>;
    return { config, json: JSON.stringify(raw) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    fail([`${file}: invalid config`, ...error.problems.map((problem) => `  ${problem}`)].join("\n"));
  }
}

/**
 * Loads a file holding one tenant object (`npm run config -- push-tenant`) and validates it as
 * the Worker will: problem paths are relative to the tenant (`hosts[0]: ...`). Rules across
 * tenants (a host another tenant claims) are the Worker's to check. Exits 1 on any problem,
 * printing them as `loadTenantsFile` does.
 */
export function loadTenantFile(file: string): TenantFile {
  const text = readText(file);
  try {
    const tenant = loadTenant(parseJsonText(text));
    // loadTenant accepted it, so this parse cannot throw; only the BOM needs stripping.
    return { tenant, json: JSON.stringify(JSON.parse(text.replace(/^\uFEFF/, ""))) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    fail([`${file}: invalid tenant`, ...error.problems.map((problem) => `  ${problem}`)].join("\n"));
  }
}

/** Every Worker secret the config names, in config order. */
export function secretsNamedIn(config: BrimConfig): NamedSecret[] {
  return config.tenants.flatMap((tenant) => secretsNamed(tenant).map((named) => ({ tenant: tenant.id, ...named })));
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    fail(`${file}: cannot read: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** "2 tenants, 9 routes", for progress lines. */
export function describeConfig(config: BrimConfig): string {
  const routes = config.tenants.reduce((sum, tenant) => sum + tenant.routes.length, 0);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `${plural(config.tenants.length, "tenant")}, ${plural(routes, "route")}`;
}
