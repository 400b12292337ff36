/** Command-line options of `npm run bench`. */
import { parseArgs } from "node:util";
import type { Scenario } from "../scenarios/types";
import type { TargetDef } from "../targets/types";
import { type Mode, SETTINGS, type Settings } from "./settings";

export interface Options {
  settings: Settings;
  targets: readonly TargetDef[];
  scenarios: readonly Scenario[];
  /** Where JSON (and, with --out, the markdown) go; null = bench/results and BENCHMARKS.md. */
  out: string | null;
  install: boolean;
  load: "wrk" | "autocannon" | null;
  brimRef: string | null;
}

const SMOKE_TARGETS = ["brim"];

export function parseOptions(argv: readonly string[], allTargets: readonly TargetDef[], allScenarios: readonly Scenario[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean", default: false },
      smoke: { type: "boolean", default: false },
      targets: { type: "string" },
      scenarios: { type: "string" },
      rounds: { type: "string" },
      out: { type: "string" },
      "no-install": { type: "boolean", default: false },
      load: { type: "string" },
      "brim-ref": { type: "string" },
    },
  });
  const mode: Mode = values.smoke ? "smoke" : values.quick ? "quick" : "full";
  const rounds = values.rounds === undefined ? SETTINGS[mode].rounds : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new Error(`--rounds: expected 1–20, got ${values.rounds}`);
  if (values.load !== undefined && values.load !== "wrk" && values.load !== "autocannon") throw new Error(`--load: wrk or autocannon, got ${values.load}`);
  return {
    settings: { ...SETTINGS[mode], rounds },
    targets: pick("--targets", values.targets ?? (mode === "smoke" ? SMOKE_TARGETS.join(",") : undefined), allTargets),
    scenarios: pick("--scenarios", values.scenarios, allScenarios),
    out: values.out ?? null,
    install: mode !== "smoke" && !values["no-install"],
    load: values.load === "wrk" || values.load === "autocannon" ? values.load : null,
    brimRef: values["brim-ref"] ?? null,
  };
}

function pick<T extends { id: string }>(flag: string, list: string | undefined, all: readonly T[]): readonly T[] {
  if (list === undefined) return all;
  const ids = list.split(",").map((id) => id.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !all.some((item) => item.id === id));
  if (unknown.length) throw new Error(`${flag}: unknown ${unknown.join(", ")}; known: ${all.map((item) => item.id).join(", ")}`);
  return all.filter((item) => ids.includes(item.id));
}
