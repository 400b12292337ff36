/** Version strings of the tools under test, from their own `--version`-style output. */
import { spawnSync } from "node:child_process";

/** The first line of `command args` output matching `pattern` (stdout and stderr), or null. */
export function versionLine(command: string, args: readonly string[], pattern: RegExp): string | null {
  const run = spawnSync(command, args, { encoding: "utf8", timeout: 10_000 });
  if (run.error) return null;
  const line = `${run.stdout}\n${run.stderr}`.split("\n").find((text) => pattern.test(text));
  return line?.trim() ?? null;
}
