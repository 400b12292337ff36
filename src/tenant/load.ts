/**
 * Parses the tenants file once, at startup, into the normalized, frozen `BrimConfig` the rest
 * of Brim reads. Every problem is reported at once, one `path: reason` line each, so an
 * author fixes a file in one round instead of one error per deploy.
 */
import type { BrimConfig, Tenant } from "./types";
import { problemLines } from "./config-problems";
import { tenantSchema, toTenant } from "./config-tenant";
import { configSchema } from "./schema";

/** The config is invalid; `problems` holds one `path: reason` line per problem found. */
export class ConfigError extends Error {
  /** Stable, for callers that switch on it (the CLI, the 503 "not configured" path). */
  readonly code = "ERR_BRIM_CONFIG";
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
    super([`invalid Brim config (${count}):`, ...problems].join("\n"));
    this.name = "ConfigError";
    this.problems = Object.freeze([...problems]);
  }
}

/**
 * Validates a parsed tenants file and returns it normalized: every optional field filled in
 * (`preserveHost` false, `timeoutMs` 30000, `cache` `{}` → all-null windows, query "all",
 * no key headers, `ttlJitter` 0, `maxObjectBytes` 100 MiB), hosts lower-cased, origins
 * without a trailing slash, each route's origin and `preserveHost` inherited from its tenant
 * unless set, `cache: false` as `null`. The result is deep-frozen.
 *
 * @throws ConfigError listing every problem found.
 */
export function loadConfig(raw: unknown): BrimConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(problemLines(parsed.error.issues));
  return deepFreeze({ tenants: parsed.data.tenants.map(toTenant) });
}

/**
 * Validates one tenant object (the platform API's per-tenant push, and each record an isolate
 * reads from the config store) and returns it normalized and frozen, as `loadConfig` would.
 * Problem paths are relative to the tenant (`hosts[0]: ...`). Rules that need the whole file
 * (unique ids and hosts across tenants) are the caller's: the config store checks them
 * against its host index.
 *
 * @throws ConfigError listing every problem found.
 */
export function loadTenant(raw: unknown): Tenant {
  const parsed = tenantSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(problemLines(parsed.error.issues));
  return deepFreeze(toTenant(parsed.data));
}

/** JSON text as a value, or a ConfigError with the single `(root): invalid JSON: ...` problem. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text.startsWith("\uFEFF") ? text.slice(1) : text);
  } catch (error) {
    throw new ConfigError([`(root): invalid JSON: ${error instanceof Error ? error.message : String(error)}`]);
  }
}

/**
 * `loadConfig` for the file's text. A leading byte-order mark (some editors add one) is
 * ignored.
 *
 * @throws ConfigError, with a single `(root): invalid JSON: ...` problem for unparsable text.
 */
export function parseConfigText(text: string): BrimConfig {
  return loadConfig(parseJsonText(text));
}

/** Freezes `value` and everything reachable from it; the normalized config is a tree. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
