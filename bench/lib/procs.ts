/**
 * Processes the bench starts: long-running services (origin, wrangler, nginx, varnish), each in
 * its own process group so stopping one stops exactly its tree, and bounded one-shot children
 * (load generators). Every service is registered so `stopAll` can end them on any exit path;
 * nothing else on the machine is ever signalled.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { childEnv } from "./paths";

const STOP_GRACE_MS = 5_000;
const PROBE_INTERVAL_MS = 200;
const PROBE_TIMEOUT_MS = 2_000;
const LOG_TAIL_CHARS = 2_000;

export interface Service {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or signal name) once the leader exits. */
  readonly exited: Promise<string>;
  stop(): Promise<void>;
}

const running = new Set<Service>();
/** Process-group ids of one-shot children still running (load generators, burst clients). */
const oneShots = new Set<number>();

export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Not ended by `stopAll` (apt-get: interrupting dpkg would do more harm than waiting). */
  untracked?: boolean;
}

/** Starts `command` in a new process group, stdout and stderr appended to `logFile`. */
export function startService(name: string, command: string, args: readonly string[], logFile: string, options: SpawnOptions = {}): Service {
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(command, args, { cwd: options.cwd, env: childEnv(options.env), detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<string>((resolve) => {
    child.once("error", (error) => resolve(`spawn error: ${error.message}`));
    child.once("exit", (code, signal) => resolve(code !== null ? String(code) : String(signal)));
  });
  const pid = child.pid ?? -1;
  const service: Service = { name, pid, logFile, exited, stop: () => stopGroup(service, child) };
  if (pid > 0) running.add(service);
  return service;
}

async function stopGroup(service: Service, child: ChildProcess): Promise<void> {
  running.delete(service);
  if (service.pid <= 0 || child.exitCode !== null || child.signalCode !== null) return;
  signalGroup(service.pid, "SIGTERM");
  const gone = await Promise.race([service.exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
  // The leader may be gone while its children linger (workerd under wrangler): end the group.
  signalGroup(service.pid, gone ? "SIGTERM" : "SIGKILL");
  if (!gone) await Promise.race([service.exited, sleep(STOP_GRACE_MS)]);
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already empty.
  }
}

/** Stops every service and one-shot child this process started, newest first. */
export async function stopAll(): Promise<void> {
  for (const pgid of oneShots) signalGroup(pgid, "SIGKILL");
  oneShots.clear();
  for (const service of [...running].reverse()) await service.stop();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves true once GET `path` on 127.0.0.1:`port` answers with any status, false at the deadline. */
export async function waitForHttp(port: number, path: string, host: string, timeoutMs: number, service?: Service): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void service?.exited.then(() => (dead = true));
  while (Date.now() < deadline && !dead) {
    if (await answers(port, path, host)) return true;
    await sleep(PROBE_INTERVAL_MS);
  }
  return false;
}

function answers(port: number, path: string, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host }, timeout: PROBE_TIMEOUT_MS, agent: false });
    req.on("response", (res) => {
      res.resume();
      resolve(true);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}

/** The last part of a service's log, for error messages. */
export function logTail(service: Service): string {
  try {
    return readFileSync(service.logFile, "utf8").slice(-LOG_TAIL_CHARS);
  } catch {
    return "";
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a one-shot child to completion, killed (its whole group) after `timeoutMs`. */
export function runChild(command: string, args: readonly string[], timeoutMs: number, options: SpawnOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: childEnv(options.env), detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const pgid = child.pid;
    if (pgid && !options.untracked) oneShots.add(pgid);
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) signalGroup(child.pid, "SIGKILL");
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      if (pgid) oneShots.delete(pgid);
      resolve({ code: null, stdout, stderr: `${stderr}${error.message}`, timedOut });
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      if (pgid) oneShots.delete(pgid);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** The last line of `stdout` that parses as JSON, or null. */
export function lastJsonLine(stdout: string): unknown {
  const lines = stdout.trim().split("\n").reverse();
  for (const line of lines) {
    if (!line.startsWith("{")) continue;
    try {
      return JSON.parse(line) as unknown;
    } catch {
      // Not this one.
    }
  }
  return null;
}
