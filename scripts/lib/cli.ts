/** Small helpers shared by the `npm start` and `npm run deploy` scripts. */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, request } from "node:http";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

const MAX_PORT = 65_535;
const PROBE_HOST = "brim-probe.invalid";
const PROBE_TIMEOUT_MS = 2_000;
const PROBE_INTERVAL_MS = 250;

/**
 * The wrangler binary: this checkout's, or `BRIM_WRANGLER` when set. The override is for tests,
 * which put a stand-in there because Cloudflare's API (`wrangler deploy`, `wrangler secret
 * list`) cannot be reached from them.
 */
export const WRANGLER = process.env.BRIM_WRANGLER || fileURLToPath(new URL("../../node_modules/.bin/wrangler", import.meta.url));
/** Environment for every wrangler run: no metrics, no banner, no `request.cf` fetched from Cloudflare. */
const WRANGLER_ENV = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" };

/** Prints `brim: <message>` to stderr and exits 1. */
export function fail(message: string): never {
  console.error(`brim: ${message}`);
  process.exit(1);
}

/** A TCP port from a flag's text, or `fallback` when the flag is absent. */
export function portOption(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > MAX_PORT) {
    fail(`${flag}: expected a port from 1 to ${MAX_PORT}, got "${text}"`);
  }
  return port;
}

/**
 * Exits with a clear message if 127.0.0.1:`port` is taken. Checked before wrangler starts:
 * otherwise the readiness probe could mistake whatever holds the port for Brim.
 */
export async function assertPortFree(port: number, flag: string): Promise<void> {
  const server = createServer();
  const taken = await new Promise<string | null>((resolve) => {
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(null)));
  });
  if (taken) fail(`cannot listen on 127.0.0.1:${port} (${taken}); choose another with ${flag}`);
}

/**
 * Runs wrangler with the given arguments, stdio shared with this process. Metrics and the
 * banner are off, and `request.cf` is not fetched from Cloudflare, so `wrangler dev` needs no
 * network beyond 127.0.0.1.
 */
export function spawnWrangler(args: readonly string[]): ChildProcess {
  return spawn(WRANGLER, args, { stdio: "inherit", env: { ...process.env, ...WRANGLER_ENV } });
}

export interface Captured {
  /** Exit code, or null when wrangler could not be run (`stderr` says why). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs wrangler with the given arguments and collects its output (stdin closed). */
export function captureWrangler(args: readonly string[]): Promise<Captured> {
  return new Promise((resolve) => {
    const child = spawn(WRANGLER, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...WRANGLER_ENV } });
    const out = { stdout: "", stderr: "" };
    child.stdout.on("data", (chunk: Buffer) => (out.stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (out.stderr += chunk.toString()));
    child.on("error", (error) => resolve({ code: null, stdout: out.stdout, stderr: error.message }));
    child.on("close", (code, signal) => resolve({ code: exitCodeOf(code, signal), ...out }));
  });
}

/** The exit code a shell would report for a child that ended with `code` or `signal`. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return signal ? 128 + (constants.signals[signal] ?? 0) : 1;
}

/**
 * Resolves once something answers HTTP on 127.0.0.1:`port`, false after `timeoutMs`. The probe
 * uses a Host no tenant has, so Brim answers it (421) without touching any origin.
 */
export async function waitForHttp(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await answers(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
  }
  return false;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/", headers: { host: PROBE_HOST }, timeout: PROBE_TIMEOUT_MS });
    req.on("response", (res) => {
      res.resume();
      resolve(true);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}
