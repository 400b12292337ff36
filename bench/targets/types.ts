/** A proxy under test, started once per bench run and stopped at its end. */
import type { CostCounts } from "../lib/costs";
import type { OriginHandle } from "../lib/origin";

export interface Target {
  readonly id: string;
  readonly label: string;
  /** The runtime floor (static Worker): shown, but never the "best peer" and never fronting the origin. */
  readonly reference: boolean;
  /** Runs in workerd (under wrangler dev, or through Miniflare when `runtime` says so). */
  readonly worker: boolean;
  /** How a Worker is run: its floor is the reference Worker run the same way. Default "wrangler dev". */
  readonly runtime?: WorkerRuntime;
  /**
   * Two or more edges (data centers: separate caches, shared Durable Objects), the first being
   * `port`; all take the same Host. Only targets with edges run the two-edge scenario.
   */
  readonly edges?: readonly number[];
  readonly port: number;
  /** The Host header clients send. */
  readonly host: string;
  readonly version: string;
  /** How it is configured, for BENCHMARKS.md. */
  readonly notes: readonly string[];
  /** The processes whose CPU time is the proxy's (for workerd: the workerd children of wrangler). */
  cpuPids(): number[];
  /** Its platform-cost counters, when it keeps any (Brim's `/__brim/stats`); see bench/lib/costs.ts. */
  costs?(): Promise<CostCounts>;
  /** Where `costs` reads them, for the burst client (another process) to read them around each burst. */
  readonly costSource?: { readonly host: string; readonly adminToken: string };
  stop(): Promise<void>;
}

export type WorkerRuntime = "wrangler dev" | "Miniflare";

export interface TargetContext {
  readonly origin: OriginHandle;
  /** A private temporary directory for configs, logs and state. */
  readonly tmp: string;
  readonly log: (line: string) => void;
  /** Bundle Brim from this git ref (e.g. HEAD) instead of the working tree. */
  readonly brimRef: string | null;
}

export interface TargetDef {
  readonly id: string;
  readonly label: string;
  /** Debian packages it needs, installed with apt-get when missing (not in smoke mode). */
  readonly packages: readonly string[];
  /** A binary whose absence means the packages are missing. */
  readonly binary?: string;
  start(context: TargetContext): Promise<Target>;
}

/** Thrown by `start` when a target cannot run here; the bench goes on without it. */
export class TargetUnavailable extends Error {
  override readonly name = "TargetUnavailable";
}
