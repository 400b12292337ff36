/**
 * The measurement loop: every scenario against every target, round after round. Within a round
 * scenarios run one after another and, for each, the targets take turns; both orders rotate
 * between rounds so no target always goes first (or always right after a heavy neighbour).
 */
import type { Metrics, Scenario } from "../scenarios/types";
import type { Target } from "../targets/types";
import type { LoadTool } from "./load/types";
import type { OriginHandle } from "./origin";
import type { RunRecord } from "./results";
import type { Settings } from "./settings";
import { round } from "./stats";

export interface RoundsInput {
  settings: Settings;
  scenarios: readonly Scenario[];
  targets: readonly Target[];
  origin: OriginHandle;
  load: LoadTool;
  log: (line: string) => void;
}

export async function runRounds(input: RoundsInput): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  const nonce = Date.now().toString(36);
  const { rounds } = input.settings;
  for (let r = 0; r < rounds; r++) {
    for (const scenario of rotate(input.scenarios, r)) {
      // Each scenario's target order moves on by one every round (and differs between scenarios).
      const targets = rotate(
        input.targets.filter((t) => (!t.reference || scenario.includeReference) && (!scenario.targets || scenario.targets.includes(t.id))),
        r + input.scenarios.indexOf(scenario),
      );
      for (const target of targets) {
        const keyPrefix = `${nonce}-r${r}-${scenario.id}-${target.id}`;
        const where = `[round ${r + 1}/${rounds}] ${scenario.id} × ${target.id}`;
        try {
          const metrics = await scenario.run({ target, origin: input.origin, load: input.load, settings: input.settings, keyPrefix });
          records.push({ round: r, scenario: scenario.id, target: target.id, metrics });
          input.log(`${where}: ${brief(metrics)}`);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          records.push({ round: r, scenario: scenario.id, target: target.id, error: message });
          input.log(`${where}: FAILED ${message.split("\n")[0]}`);
        }
      }
    }
  }
  return records;
}

function rotate<T>(list: readonly T[], by: number): T[] {
  if (list.length === 0) return [];
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

function brief(metrics: Metrics): string {
  return Object.entries(metrics)
    .map(([key, value]) => `${key}=${round(value, 1)}`)
    .join(" ");
}
