/** autocannon (npm) as the load tool, run in a separate process. Used when wrk is not installed. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR, ROOT, TSX } from "../paths";
import { lastJsonLine, runChild } from "../procs";
import { LOAD_KILL_SLACK_MS, type LoadResult, type LoadSpec, type LoadTool } from "./types";

export function autocannonTool(): LoadTool {
  const pkg = JSON.parse(readFileSync(join(ROOT, "node_modules", "autocannon", "package.json"), "utf8")) as { version: string };
  return {
    name: "autocannon",
    version: pkg.version,
    async run(spec: LoadSpec): Promise<LoadResult> {
      const run = await runChild(TSX, [join(BENCH_DIR, "lib", "load", "autocannon-child.ts"), JSON.stringify(spec)], spec.durationMs + LOAD_KILL_SLACK_MS);
      const result = lastJsonLine(run.stdout) as LoadResult | null;
      if (!result) throw new Error(`autocannon failed (exit ${run.code}${run.timedOut ? ", timed out" : ""}): ${run.stderr.slice(-500)}`);
      return result;
    },
  };
}
