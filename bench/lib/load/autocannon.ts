/** autocannon (npm) as the load tool, run in a separate process. Used when wrk is not installed. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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
      // The spec goes in a file: a list of tokens can exceed what one argv string may hold.
      const dir = mkdtempSync(join(tmpdir(), "brim-autocannon-"));
      const file = join(dir, "spec.json");
      writeFileSync(file, JSON.stringify(spec));
      const run = await runChild(
        TSX,
        [join(BENCH_DIR, "lib", "load", "autocannon-child.ts"), file],
        spec.durationMs + LOAD_KILL_SLACK_MS,
      ).finally(() => rmSync(dir, { recursive: true, force: true }));
      const result = lastJsonLine(run.stdout) as LoadResult | null;
      if (!result) throw new Error(`autocannon failed (exit ${run.code}${run.timedOut ? ", timed out" : ""}): ${run.stderr.slice(-500)}`);
      return result;
    },
  };
}
