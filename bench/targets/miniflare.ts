/**
 * Runs Workers through Miniflare's API (bench/lib/miniflare-host.ts, its own process) with a
 * socket per Worker straight into workerd: no wrangler dev proxy Worker, no second workerd
 * process, so the static Worker served this way is the runtime's own floor. Shared by the
 * `*-mf` targets.
 */
import { join } from "node:path";
import { processTree } from "../lib/cpu";
import type { MiniflarePlan } from "../lib/miniflare-plan";
import { BENCH_DIR, TSX } from "../lib/paths";
import { logTail, type Service, startService, waitForHttp } from "../lib/procs";
import { bundleWorker } from "./bundle";
import type { TargetContext } from "./types";

/** Starting workerd takes seconds; loading wrangler (for the bindings) a few more on a busy machine. */
const READY_TIMEOUT_MS = 90_000;

export interface MiniflareInstance {
  readonly service: Service;
  /** workerd under the host process: the proxy's CPU. */
  cpuPids(): number[];
  stop(): Promise<void>;
}

/** Starts one Miniflare instance running `plan` and waits until the first Worker answers `readyPath`. */
export async function startMiniflare(
  context: TargetContext,
  id: string,
  plan: MiniflarePlan,
  ready: { path: string; host?: string },
): Promise<MiniflareInstance> {
  const service = startService(
    id,
    TSX,
    [join(BENCH_DIR, "lib", "miniflare-host.ts"), JSON.stringify(plan)],
    join(context.tmp, `${id}.log`),
  );
  for (const worker of plan.workers) {
    if (!(await waitForHttp(worker.port, ready.path, ready.host ?? `127.0.0.1:${worker.port}`, READY_TIMEOUT_MS, service))) {
      await service.stop();
      throw new Error(`${id}: Miniflare did not answer on ${worker.port} within ${READY_TIMEOUT_MS / 1000} s:\n${logTail(service)}`);
    }
  }
  return { service, cpuPids: () => processTree(service.pid, ["workerd"]), stop: () => service.stop() };
}

/** A bench Worker (bench/workers/<name>/) bundled for Miniflare; resolves with the bundle's entry. */
export function bundleBenchWorker(context: TargetContext, name: string): Promise<string> {
  const dir = join(BENCH_DIR, "workers", name);
  return bundleWorker(name, dir, join(dir, "wrangler.toml"), join(context.tmp, `${name}-bundle`));
}
