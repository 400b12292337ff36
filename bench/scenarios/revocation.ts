/**
 * Revocation at scale (issue 4): memory and lookup time of the isolate-side revoked-jti set
 * (`FingerprintSet`, src/auth/revocation/set.ts) at 10^6 entries. Measured in Node's V8, in a
 * child process started with --expose-gc, not in workerd: workerd freezes its timers during
 * pure compute (Spectre mitigation), so in-Worker timing of a tight loop reads 0.
 */
import { join } from "node:path";
import { BENCH_DIR, ROOT } from "../lib/paths";
import { lastJsonLine, runChild } from "../lib/procs";
import type { Metrics, Scenario } from "./types";

const CHILD_TIMEOUT_MS = 120_000;

export const revocation: Scenario = {
  id: "revocation",
  title: "Revocation list at scale",
  describe: (s) =>
    `Brim's revoked-jti set (\`FingerprintSet\`: 64-bit fingerprints, sorted \`BigUint64Array\`, binary search) built from ` +
    `${s.revocation.entries.toLocaleString("en-US")} random UUIDs, then ${s.revocation.lookups.toLocaleString("en-US")} lookups of ids in it (hits) ` +
    `and as many of ids not in it (misses), hashing included. Memory is the retained growth of V8 heap + ArrayBuffers after a full GC. ` +
    `**Measured in Node ${process.version}'s V8 (same engine family, JIT on), not in workerd**: workerd freezes timers during pure compute, ` +
    "so it cannot time this from inside a Worker. No proxy is involved; the row is Brim's code.",
  includeReference: false,
  targets: ["brim"],
  headline: "hitNs",
  headlineLabel: "ns per jti lookup (hit)",
  metrics: [
    { key: "entries", label: "entries", better: "none", digits: 0 },
    { key: "buildMs", label: "build ms", better: "lower", digits: 0 },
    { key: "retainedMB", label: "retained MB (heap + ArrayBuffers)", better: "lower", digits: 1 },
    { key: "bytesPerEntry", label: "bytes / entry", better: "lower", digits: 1 },
    { key: "hitNs", label: "ns / lookup (hit)", better: "lower", digits: 0 },
    { key: "missNs", label: "ns / lookup (miss)", better: "lower", digits: 0 },
    { key: "missesFound", label: "misses found (false positives)", better: "lower", digits: 0 },
  ],
  async run(context) {
    const { entries, lookups } = context.settings.revocation;
    const args = ["--expose-gc", "--import", "tsx", join(BENCH_DIR, "lib", "revocation-child.ts"), String(entries), String(lookups)];
    const run = await runChild(process.execPath, args, CHILD_TIMEOUT_MS, { cwd: ROOT });
    const result = lastJsonLine(run.stdout) as Metrics | null;
    if (!result)
      throw new Error(`revocation child failed (exit ${run.code}${run.timedOut ? ", timed out" : ""}): ${run.stderr.slice(-500)}`);
    if (result.hitsFound !== lookups) throw new Error(`only ${result.hitsFound} of ${lookups} revoked ids were found`);
    return { ...result, retainedMB: (result.heapMB ?? 0) + (result.arrayBuffersMB ?? 0) };
  },
};
