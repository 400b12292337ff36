/** Runs one of the repository's scripts with the repo's Node 22 and tsx, as `npm run` would, and collects what it printed. */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The `node` devDependency: the system Node may be older than wrangler and tsx need. */
const NODE = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const SCRIPT_TIMEOUT_MS = 30_000;

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Asynchronous, so the cases of `describe.concurrent` really overlap. `env` replaces the environment. */
export function runScript(
  script: string,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      NODE,
      ["--import", "tsx", script, ...args],
      { cwd: ROOT, encoding: "utf8", timeout: SCRIPT_TIMEOUT_MS, env: env as NodeJS.ProcessEnv },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ status, stdout, stderr });
      },
    );
  });
}
