/** What a scenario is: one small file under bench/scenarios/ that measures one behaviour. */
import type { LoadTool } from "../lib/load/types";
import type { OriginHandle } from "../lib/origin";
import type { Settings } from "../lib/settings";
import type { Target } from "../targets/types";

export interface MetricSpec {
  readonly key: string;
  readonly label: string;
  /** Which way is better, for the ratio to the best peer; "none" when neither is (no ratio shown). */
  readonly better: "lower" | "higher" | "none";
  readonly digits?: number;
  /** A req/s also shown, for Worker targets, as a share of the static Worker's req/s in Hot hits (the runtime floor). */
  readonly vsFloor?: boolean;
  /** Shown in its own table under the scenario, headed by this; metrics without one share the first table. */
  readonly table?: string;
  /** The ratio shown is to this metric of the same target and run (e.g. identity bytes), not to the best peer. */
  readonly relativeTo?: string;
  /** May be missing (—) when a target does not do it (nginx has no zstd) or it failed (counted elsewhere). */
  readonly optional?: boolean;
}

export interface ScenarioContext {
  readonly target: Target;
  readonly origin: OriginHandle;
  readonly load: LoadTool;
  readonly settings: Settings;
  /** Unique per run, round, scenario and target: every measurement starts from cold keys. */
  readonly keyPrefix: string;
}

export type Metrics = Record<string, number>;

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** One line on what is measured, with this run's numbers. */
  describe(settings: Settings): string;
  /** Whether the reference target (static Worker, no origin) runs it too. */
  readonly includeReference: boolean;
  /** Only these targets run it (ids); all when absent. */
  readonly targets?: readonly string[];
  readonly metrics: readonly MetricSpec[];
  /** The metric quoted in the headline. */
  readonly headline: string;
  /** How the headline row is labelled, when the metric's own label needs its table's context. */
  readonly headlineLabel?: string;
  run(context: ScenarioContext): Promise<Metrics>;
}

/** Requests that failed outright or with 5xx. */
export const ERRORS_METRIC: MetricSpec = { key: "errors", label: "errors", better: "lower", digits: 0 };
