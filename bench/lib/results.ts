/** The shape of one bench run's results (bench/results/*.json) and how rounds are summarized. */
import type { Metrics, Scenario } from "../scenarios/types";
import type { WorkerRuntime } from "../targets/types";
import type { Machine } from "./machine";
import type { Settings } from "./settings";
import { median } from "./stats";

export interface RunRecord {
  round: number;
  scenario: string;
  target: string;
  metrics?: Metrics;
  error?: string;
}

export interface TargetRecord {
  id: string;
  label: string;
  reference: boolean;
  worker: boolean;
  /** For Workers: "wrangler dev" (when absent) or "Miniflare"; a Worker's floor is the reference run the same way. */
  runtime?: WorkerRuntime;
  version?: string;
  notes: readonly string[];
  /** Why it did not run, when it did not. */
  skipped?: string;
}

export interface BenchResults {
  mode: Settings["mode"];
  /** How it was run, e.g. "npm run bench -- --brim-ref HEAD". */
  command: string;
  startedAt: string;
  durationS: number;
  machine: Machine;
  tools: Record<string, string>;
  settings: Settings;
  targets: TargetRecord[];
  runs: RunRecord[];
  /** scenario → target → metric → median over rounds. */
  summary: Record<string, Record<string, Metrics>>;
  notes: string[];
}

export function summarize(scenarios: readonly Scenario[], runs: readonly RunRecord[]): BenchResults["summary"] {
  const summary: BenchResults["summary"] = {};
  for (const scenario of scenarios) {
    const byTarget: Record<string, Metrics> = {};
    for (const run of runs) {
      if (run.scenario !== scenario.id || !run.metrics) continue;
      byTarget[run.target] ??= {};
    }
    for (const target of Object.keys(byTarget)) {
      const mine = runs.filter((run) => run.scenario === scenario.id && run.target === target && run.metrics);
      const keys = new Set(mine.flatMap((run) => Object.keys(run.metrics ?? {})));
      const metrics: Metrics = {};
      for (const key of keys) metrics[key] = median(mine.map((run) => run.metrics?.[key] ?? Number.NaN));
      byTarget[target] = metrics;
    }
    summary[scenario.id] = byTarget;
  }
  return summary;
}
