/** A description of the machine and tool versions, for BENCHMARKS.md and the JSON results. */
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { clockTicks } from "./cpu";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  kernel: string;
  node: string;
  /** 1-minute load average when the run started: other work on the machine skews numbers. */
  loadAverageAtStart: number;
  /** Mean % of all cores used by processes outside the bench while it measured. */
  otherLoadPct?: number;
}

export function describeMachine(loadAverageAtStart = loadavg()[0] ?? 0): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: osName(),
    kernel: release(),
    node: process.version,
    loadAverageAtStart: Math.round(loadAverageAtStart * 100) / 100,
  };
}

function osName(): string {
  try {
    const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync("/etc/os-release", "utf8"));
    return match?.[1] ?? "Linux";
  } catch {
    return "Linux";
  }
}

export interface CpuSnapshot {
  at: number;
  /** Busy CPU time of the whole machine (all cores), ms. */
  machineMs: number;
  /** CPU time of this process and every child it has reaped (services, load generators), ms. */
  benchMs: number;
}

/**
 * Taken at the start and end of the measurements: the difference tells how much CPU processes
 * outside the bench used meanwhile (other work on a shared machine skews every number).
 */
export function cpuSnapshot(): CpuSnapshot {
  const hz = clockTicks();
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  const self = readFileSync("/proc/self/stat", "utf8");
  const own = self
    .slice(self.lastIndexOf(")") + 2)
    .split(" ")
    .slice(11, 15)
    .map(Number);
  const benchTicks = own.reduce((sum, ticks) => sum + ticks, 0);
  return { at: Date.now(), machineMs: ((user + nice + system + irq + softirq + steal) * 1000) / hz, benchMs: (benchTicks * 1000) / hz };
}

/** Mean share (%) of the machine's CPU used by processes other than the bench between two snapshots. */
export function otherLoadPct(start: CpuSnapshot, end: CpuSnapshot, cores: number): number {
  const wall = (end.at - start.at) * cores;
  if (wall <= 0) return 0;
  const others = end.machineMs - start.machineMs - (end.benchMs - start.benchMs);
  return Math.max(0, Math.round((others / wall) * 1000) / 10);
}
