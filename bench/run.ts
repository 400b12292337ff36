/**
 * `npm run bench`: Brim against hono/cache, a static Worker (the runtime floor), nginx and
 * Varnish, every one in front of the same bench origin on 127.0.0.1.
 *
 *   npm run bench                 full: 3 rounds, ≤ ~10 min, writes BENCHMARKS.md + bench/results/*.json
 *   npm run bench -- --quick      ~1 min, 1 round
 *   npm run bench -- --smoke      seconds, Brim only, no apt installs (npm test runs this)
 *   options: --targets a,b  --scenarios x,y  --rounds N  --out DIR  --no-install  --load wrk|autocannon
 *            --brim-ref REF (measure Brim as committed at REF, e.g. HEAD, instead of the working tree)
 *
 * Everything it starts (origin, wrangler/workerd, nginx, varnishd, load generators) runs in
 * process groups it owns and is stopped at the end, on Ctrl-C, or on failure.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePackages } from "./lib/apt";
import { printUsageAndExit, usageError, wantsHelp } from "../scripts/lib/args";
import { benchUsage, parseOptions } from "./lib/args";
import { autocannonTool } from "./lib/load/autocannon";
import type { LoadTool } from "./lib/load/types";
import { wrkTool, wrkVersion } from "./lib/load/wrk";
import { cpuSnapshot, describeMachine, otherLoadPct } from "./lib/machine";
import { startOrigin } from "./lib/origin";
import { BENCHMARKS_MD, RESULTS_DIR, WRANGLER } from "./lib/paths";
import { stopAll } from "./lib/procs";
import { renderMarkdown } from "./lib/report";
import { type BenchResults, summarize, type TargetRecord } from "./lib/results";
import { runRounds } from "./lib/rounds";
import { versionLine } from "./lib/versions";
import { SCENARIOS } from "./scenarios";
import { TARGETS } from "./targets";
import { type Target, TargetUnavailable } from "./targets/types";
import { workerdVersionText } from "./targets/wrangler";

const log = (line: string) => console.log(`bench: ${line}`);
const options = (() => {
  const argv = process.argv.slice(2);
  const usage = benchUsage(TARGETS, SCENARIOS);
  if (wantsHelp(argv)) printUsageAndExit(usage);
  try {
    return parseOptions(argv, TARGETS, SCENARIOS);
  } catch (error) {
    return usageError({ name: "bench", usage }, error instanceof Error ? error.message : String(error));
  }
})();
const { settings } = options;
const started = new Date();
const tmp = mkdtempSync(join(tmpdir(), "brim-bench-"));
const notes: string[] = [];

async function cleanUp(): Promise<void> {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => void cleanUp().then(() => process.exit(130)));
}

try {
  log(
    `${settings.mode} mode: ${options.targets.map((t) => t.id).join(", ")} × ${options.scenarios.map((s) => s.id).join(", ")}, ${settings.rounds} round(s)`,
  );
  if (options.install) {
    const wanted = [...new Set([...options.targets.flatMap((t) => t.packages), ...(options.load === "autocannon" ? [] : ["wrk"])])];
    const problem = await ensurePackages(wanted, log);
    if (problem) notes.push(`Debian packages: ${problem}.`);
  }
  const load = chooseLoad(options.load, settings.mode === "smoke");
  const loadAverage = loadavg()[0] ?? 0;
  const cpuAtStart = cpuSnapshot();
  const origin = await startOrigin(tmp);
  const targets: Target[] = [];
  const records: TargetRecord[] = [];
  for (const def of options.targets) {
    log(`starting ${def.label}`);
    try {
      const target = await def.start({ origin, tmp, log, brimRef: options.brimRef });
      targets.push(target);
      records.push({
        id: target.id,
        label: target.label,
        reference: target.reference,
        worker: target.worker,
        ...(target.runtime ? { runtime: target.runtime } : {}),
        version: target.version,
        notes: target.notes,
      });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      log(`skipping ${def.label}: ${why}`);
      const reason = error instanceof TargetUnavailable ? why : `failed to start: ${why.split("\n")[0]}`;
      records.push({ id: def.id, label: def.label, reference: false, worker: false, notes: [], skipped: reason });
    }
  }
  if (targets.length === 0) throw new Error("no target could be started");

  const runs = await runRounds({ settings, scenarios: options.scenarios, targets, origin, load, log });
  await stopAll();
  const machine = describeMachine(loadAverage);
  machine.otherLoadPct = otherLoadPct(cpuAtStart, cpuSnapshot(), machine.cores);

  const results: BenchResults = {
    mode: settings.mode,
    command: ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
    startedAt: started.toISOString(),
    durationS: (Date.now() - started.getTime()) / 1000,
    machine,
    tools: toolVersions(load),
    settings,
    targets: records,
    runs,
    summary: summarize(options.scenarios, runs),
    notes: [...notes, ...standingNotes(load, options.brimRef)],
  };
  const outDir = options.out ?? RESULTS_DIR;
  mkdirSync(outDir, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, "-");
  const json = join(outDir, `${settings.mode}-${stamp}.json`);
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  const markdown = renderMarkdown(results, options.scenarios);
  const md = options.out || settings.mode === "smoke" ? join(outDir, "BENCHMARKS.md") : BENCHMARKS_MD;
  writeFileSync(md, markdown);
  log(`results: ${json}`);
  log(`report: ${md} (${Math.round(results.durationS)} s)`);
  const failed = runs.filter((run) => run.error).length;
  if (failed) log(`${failed} of ${runs.length} runs failed; see the report`);
} catch (error) {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}

function chooseLoad(wanted: "wrk" | "autocannon" | null, smoke: boolean): LoadTool {
  const wrk = wrkVersion();
  if (wanted === "wrk" && !wrk) throw new Error("--load wrk: wrk is not installed");
  if (wrk && (wanted === "wrk" || (wanted === null && !smoke))) return wrkTool(wrk, tmp);
  return autocannonTool();
}

function toolVersions(load: LoadTool): Record<string, string> {
  return {
    "Node (orchestrator, wrangler)": process.version,
    workerd: workerdVersionText(),
    wrangler: versionLine(WRANGLER, ["--version"], /^\d+\.\d+/) ?? "unknown",
    nginx: versionLine("/usr/sbin/nginx", ["-v"], /nginx version/)?.replace("nginx version: ", "") ?? "not installed",
    varnish: versionLine("/usr/sbin/varnishd", ["-V"], /varnish-/) ?? "not installed",
    "load generator": `${load.name} ${load.version}`,
  };
}

function standingNotes(load: LoadTool, brimRef: string | null): string[] {
  const source = brimRef
    ? `as committed at \`${brimRef}\` (git archive, commit in Targets)`
    : "as the working tree was when the run started (commit in Targets)";
  return [
    `Brim is measured ${source}: it is bundled once, so edits during the run cannot reload it.`,
    "wrangler dev is a development server: every request crosses wrangler's own proxy Worker in a second workerd process before reaching the Worker, " +
      "so Worker throughput is capped near the static Worker's (the floor) and is best read relative to it, not against nginx or Varnish. " +
      "Production Workers run nothing like this path. " +
      "The `Miniflare` targets run the same bundles through Miniflare's API with a socket straight into the Worker (no proxy Worker, one workerd process), " +
      "so their floor is the runtime's; Durable Objects there are in memory, under wrangler dev in SQLite files.",
    "CPU per 1k requests counts utime + stime (from /proc) of the proxy's own processes: both workerd processes under wrangler for Workers (the one workerd through Miniflare), every nginx or varnishd process otherwise.",
    "The origin runs in its own Node process; counts of the requests it received come from its control endpoint, per URL.",
    `Throughput runs use ${load.name} (${load.name === "wrk" ? "1 thread" : "one Node process"}) in its own process; bursts use a Node client in its own process that opens every keep-alive connection first and then writes all requests at once.`,
  ];
}
