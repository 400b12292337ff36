/**
 * Runs one Worker under `wrangler dev` (workerd) on 127.0.0.1, offline, quiet and with a
 * temporary `--persist-to`, like scripts/start.ts does. Shared by the three Worker targets.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { processTree } from "../lib/cpu";
import { BIN_DIR, WRANGLER } from "../lib/paths";
import { freePort, logTail, startService, waitForHttp } from "../lib/procs";
import type { Target, TargetContext } from "./types";

/** The first start bundles the Worker; later ones take a few seconds. */
const READY_TIMEOUT_MS = 90_000;

export interface WorkerLaunch {
  id: string;
  label: string;
  reference: boolean;
  /** wrangler config file; its directory is wrangler's working directory. */
  config: string;
  /** An entry point overriding the config's `main` (a prebuilt bundle, with `noBundle`). */
  script?: string;
  noBundle?: boolean;
  /** Chosen by the caller when the Worker's config must name it. */
  port?: number;
  vars: Record<string, string>;
  notes: string[];
  /** A request that answers without touching the origin. */
  readyPath: string;
  readyHost?: string;
}

let workerdVersion: string | null = null;

export function workerdVersionText(): string {
  if (workerdVersion === null) {
    try {
      workerdVersion = execFileSync(join(BIN_DIR, "workerd"), ["--version"], { encoding: "utf8" }).trim();
    } catch {
      workerdVersion = "workerd (unknown version)";
    }
  }
  return workerdVersion;
}

export async function startWorker(context: TargetContext, launch: WorkerLaunch): Promise<Target> {
  const port = launch.port ?? (await freePort());
  const inspector = await freePort();
  const args = [
    "dev",
    ...(launch.script ? [launch.script] : []),
    "--config",
    launch.config,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspector),
    "--persist-to",
    join(context.tmp, `${launch.id}-state`),
    "--log-level",
    "warn",
    "--show-interactive-dev-session=false",
    ...(launch.noBundle ? ["--no-bundle"] : []),
    ...Object.entries(launch.vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
  const service = startService(launch.id, WRANGLER, args, join(context.tmp, `${launch.id}.log`), { cwd: join(launch.config, "..") });
  const host = `127.0.0.1:${port}`;
  if (!(await waitForHttp(port, launch.readyPath, launch.readyHost ?? host, READY_TIMEOUT_MS, service))) {
    await service.stop();
    throw new Error(`${launch.id}: wrangler dev did not answer within ${READY_TIMEOUT_MS / 1000} s:\n${logTail(service)}`);
  }
  return {
    id: launch.id,
    label: launch.label,
    reference: launch.reference,
    worker: true,
    port,
    host,
    version: workerdVersionText(),
    notes: launch.notes,
    cpuPids: () => processTree(service.pid, ["workerd"]),
    stop: () => service.stop(),
  };
}
