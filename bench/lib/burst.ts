/** Runs a BurstPlan in a separate process (bench/lib/burst-client.ts), bounded in time. */
import { join } from "node:path";
import type { BurstPlan, BurstReport, Sample } from "./burst-plan";
import { BENCH_DIR, TSX } from "./paths";
import { lastJsonLine, runChild } from "./procs";
import { percentile } from "./stats";

const STARTUP_ALLOWANCE_MS = 30_000;

export async function runBurst(plan: BurstPlan): Promise<BurstReport> {
  const timeoutMs =
    STARTUP_ALLOWANCE_MS +
    plan.steps.reduce((sum, step) => {
      if (step.kind === "sleep") return sum + step.ms;
      if (step.kind === "burst") return sum + plan.requestTimeoutMs + step.settleMs;
      return sum + plan.requestTimeoutMs;
    }, 0);
  const run = await runChild(TSX, [join(BENCH_DIR, "lib", "burst-client.ts"), JSON.stringify(plan)], timeoutMs);
  const report = lastJsonLine(run.stdout) as BurstReport | null;
  if (!report) {
    const why = run.timedOut ? `timed out after ${timeoutMs} ms` : `exit ${run.code}`;
    throw new Error(`burst client failed (${why}): ${run.stderr.slice(-1_000)}`);
  }
  return report;
}

/** p50/p99 of the successful samples, and how many failed (status 0 or ≥ 500). */
export function summarize(samples: readonly Sample[]): { p50: number; p99: number; errors: number } {
  const ok = samples.filter((s) => s.status > 0 && s.status < 500).map((s) => s.ms);
  return { p50: percentile(ok, 50), p99: percentile(ok, 99), errors: samples.length - ok.length };
}
