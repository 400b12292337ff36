/**
 * The Worker secrets `npm start` hands to `wrangler dev`, read the way wrangler 4 reads them
 * (its `getVarsForDev`), so start-up can warn about the ones a tenant names but nothing sets:
 *
 * - `--env-file FILE`: wrangler reads that file only (not `.dev.vars`, not `.env`);
 * - otherwise `.dev.vars` next to wrangler.toml, if it exists;
 * - otherwise `.env` then `.env.local` (later wins), those that exist.
 *
 * Neither reads the shell's environment (wrangler does only with CLOUDFLARE_INCLUDE_PROCESS_ENV).
 * Values are read with Node's `util.parseEnv` (dotenv syntax); wrangler also expands `$NAME`
 * references, so keep `$` out of secrets.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseEnv } from "node:util";
import { fail } from "./cli";

export interface DevSecrets {
  /** Where they came from, for messages: "fixtures/demo.env", ".dev.vars", ".env, .env.local" or "no secrets file". */
  readonly source: string;
  readonly values: Readonly<Record<string, string>>;
  /** For `wrangler dev`: `--env-file <absolute path>` when the file is ours to choose, else nothing (wrangler finds its default). */
  readonly wranglerArgs: readonly string[];
}

/** The secrets `wrangler dev`, run in `root`, will see given `envFile` (`--env-file`); exits 1 if that file cannot be read. */
export function devSecrets(envFile: string | undefined, root: string): DevSecrets {
  if (envFile !== undefined) {
    const path = resolve(envFile);
    return { source: envFile, values: readEnv(path, envFile), wranglerArgs: ["--env-file", path] };
  }
  const devVars = join(root, ".dev.vars");
  if (existsSync(devVars)) return { source: ".dev.vars", values: readEnv(devVars, ".dev.vars"), wranglerArgs: [] };
  const dotEnv = [".env", ".env.local"].filter((name) => existsSync(join(root, name)));
  if (dotEnv.length === 0 || process.env.CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV === "false") {
    return { source: "no secrets file", values: {}, wranglerArgs: [] };
  }
  const values = Object.assign({}, ...dotEnv.map((name) => readEnv(join(root, name), name))) as Record<string, string>;
  return { source: dotEnv.join(", "), values, wranglerArgs: [] };
}

/** Whether `name` has a non-empty value (an empty secret counts as unset, as in the Worker). */
export function isSet(secrets: DevSecrets, name: string): boolean {
  return (secrets.values[name] ?? "") !== "";
}

function readEnv(path: string, shown: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    fail(`${shown}: cannot read: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseEnv(text) as Record<string, string>;
}
