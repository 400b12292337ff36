/**
 * Reads and validates a tenants file exactly as the worker will (`parseConfigText`), so a bad
 * file is reported on the command line instead of as a 503 after start or deploy.
 */
import { readFileSync } from "node:fs";
import type { BrimConfig } from "../../src/tenant/types";
import { ConfigError, parseConfigText } from "../../src/tenant/load";
import { fail } from "./cli";

export interface TenantsFile {
  config: BrimConfig;
  /** Compact JSON for `--var BRIM_CONFIG:<json>`; `$schema` (editor-only) is left out. */
  json: string;
}

/**
 * Loads `file`, optionally rewriting its text first (demo ports), and validates it. On any
 * problem prints `brim: <file>: invalid config` and one `path: reason` line per problem to
 * stderr, then exits 1.
 */
export function loadTenantsFile(file: string, rewrite: (text: string) => string = (text) => text): TenantsFile {
  let text: string;
  try {
    text = rewrite(readFileSync(file, "utf8"));
  } catch (error) {
    fail(`${file}: cannot read: ${error instanceof Error ? error.message : String(error)}`);
  }
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

/** "2 tenants, 9 routes", for progress lines. */
export function describeConfig(config: BrimConfig): string {
  const routes = config.tenants.reduce((sum, tenant) => sum + tenant.routes.length, 0);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `${plural(config.tenants.length, "tenant")}, ${plural(routes, "route")}`;
}
