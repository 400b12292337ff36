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

/** `npm run bench -- --help`; the known targets and scenarios are listed from the registries. */
export function benchUsage(allTargets: readonly TargetDef[], allScenarios: readonly Scenario[]): string {
  const ids = (items: readonly { id: string }[]) => items.map((item) => item.id).join(",");
  return `Usage: npm run bench [-- OPTIONS]

Brim against hono/cache, a static Worker, nginx and Varnish, each in front of the same bench
origin on 127.0.0.1. Writes BENCHMARKS.md and bench/results/*.json.

  (no mode)             full: ${SETTINGS.full.rounds} rounds, up to ~10 min
  --quick               ~1 min, ${SETTINGS.quick.rounds} round
  --smoke               seconds, Brim only, no apt installs (npm test runs this)
  --targets a,b         of ${ids(allTargets)}
  --scenarios x,y       of ${ids(allScenarios)}
  --rounds N            1-20 (default: the mode's)
  --out DIR             results and BENCHMARKS.md go to DIR instead
  --no-install          do not apt-get install nginx, varnish or wrk
  --load wrk|autocannon the load generator (default: wrk when installed; autocannon with --smoke)
  --brim-ref REF        measure Brim as committed at REF (e.g. HEAD) instead of the working tree
  -h, --help            this text`;
}

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
  if (values.load !== undefined && values.load !== "wrk" && values.load !== "autocannon")
    throw new Error(`--load: wrk or autocannon, got ${values.load}`);
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
  const ids = list
    .split(",")
    .map((id) => id.trim())
    .filter(Boolean);
  const unknown = ids.filter((id) => !all.some((item) => item.id === id));
  if (unknown.length) throw new Error(`${flag}: unknown ${unknown.join(", ")}; known: ${all.map((item) => item.id).join(", ")}`);
  return all.filter((item) => ids.includes(item.id));
}
