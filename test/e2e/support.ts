/**
 * Helpers for the Node end-to-end tests: the real scripts as child processes (each in its own
 * process group, so the whole wrangler/workerd tree can be stopped), free ports, and HTTP with
 * a chosen Host header (fetch would not let us set it).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createServer, request } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The `node` devDependency: the system Node may be older than wrangler and tsx need. */
export const NODE = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
/** First start compiles the Worker; on a busy 2-core CI box that takes a while. */
export const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const SCRIPT_TIMEOUT_MS = 60_000;

export interface Run {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

/** `npm start -- <args>` in its own process group. */
export function npmStart(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Run {
  const child = spawn("npm", ["start", "--", ...args], { cwd: ROOT, detached: true, stdio: "pipe", env });
  const output = { stdout: "", stderr: "" };
  child.stdout?.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output, exited };
}

/** Resolves once `npm start` says it is ready; rejects if it exits first or takes too long. */
export async function untilReady(run: Run): Promise<void> {
  let check: NodeJS.Timeout | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    check = setInterval(() => run.output.stdout.includes("brim: ready on") && resolve(), 100);
    void run.exited.then((code) => reject(new Error(`npm start exited with ${code}: ${JSON.stringify(run.output)}`)));
  });
  await within(ready, READY_TIMEOUT_MS, () => JSON.stringify(run.output)).finally(() => clearInterval(check));
}

/** SIGTERM to the run's process group, SIGKILL if it lingers. */
export async function stop(run: Run | undefined): Promise<void> {
  if (!run) return;
  signalGroup(run, "SIGTERM");
  await within(run.exited, STOP_TIMEOUT_MS, () => "npm start ignored SIGTERM").catch(() => signalGroup(run, "SIGKILL"));
}

function signalGroup(run: Run, signal: NodeJS.Signals): void {
  try {
    if (run.child.pid !== undefined) process.kill(-run.child.pid, signal);
  } catch {
    // Already gone.
  }
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run -s <script> -- <args>` to completion, with `env` as its whole environment. */
export function npmRun(script: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      "npm",
      ["run", "-s", script, "--", ...args],
      { cwd: ROOT, encoding: "utf8", timeout: SCRIPT_TIMEOUT_MS, env },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request to 127.0.0.1:`port` with a chosen Host header. */
export function get(port: number, path: string, host: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { ...headers, host } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject).end();
  });
}

export function within<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
