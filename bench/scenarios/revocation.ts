/**
 * Revocation at scale (issues 4 and 16): the published feed of 10^6 entries streamed through the
 * `RevocationList` object's parser (time, memory kept and peak), the isolate-side set
 * (`SegmentedSet`, src/auth/revocation/set.ts: lookup time), and what one more revoked jti costs
 * an isolate (the segments that change). Measured in Node's V8, in a child process started with
 * --expose-gc, not in workerd: workerd freezes its timers during pure compute (Spectre
 * mitigation), so in-Worker timing of a tight loop reads 0.
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
    `A published feed of ${s.revocation.entries.toLocaleString("en-US")} random UUIDs streamed in 64 KiB chunks through Brim's ` +
    "`FeedParser` (what the `RevocationList` object does with the tenant's feed: each jti hashed to 64 bits as it arrives, then sorted); " +
    "memory kept is the retained growth of V8 heap + ArrayBuffers after a full GC, peak is the largest growth sampled during the parse. " +
    `Then ${s.revocation.lookups.toLocaleString("en-US")} lookups of ids in the isolate-side set (\`SegmentedSet\`: segments by top bits, binary search) ` +
    "and as many of ids not in it, hashing included; then one more jti, and the segments an isolate is sent for it (delta) against the whole set. " +
    `**Measured in Node ${process.version}'s V8 (same engine family, JIT on), not in workerd**: workerd freezes timers during pure compute, ` +
    "so it cannot time this from inside a Worker. No proxy is involved; the row is Brim's code.",
  includeReference: false,
  targets: ["brim"],
  headline: "hitNs",
  headlineLabel: "ns per jti lookup (hit)",
  metrics: [
    { key: "entries", label: "entries", better: "none", digits: 0 },
    { key: "feedMB", label: "feed MB", better: "none", digits: 1 },
    { key: "parseMs", label: "parse ms", better: "lower", digits: 0 },
    { key: "retainedMB", label: "kept MB (heap + ArrayBuffers)", better: "lower", digits: 1 },
    { key: "bytesPerEntry", label: "bytes / entry kept", better: "lower", digits: 1 },
    { key: "peakMB", label: "peak MB while parsing", better: "lower", digits: 1 },
    { key: "hitNs", label: "ns / lookup (hit)", better: "lower", digits: 0 },
    { key: "missNs", label: "ns / lookup (miss)", better: "lower", digits: 0 },
    { key: "missesFound", label: "misses found (false positives)", better: "lower", digits: 0 },
    { key: "segments", label: "segments", better: "none", digits: 0 },
    { key: "deltaKB", label: "KB sent for one more jti", better: "lower", digits: 1 },
    { key: "fullMB", label: "MB of the whole set", better: "none", digits: 1 },
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
