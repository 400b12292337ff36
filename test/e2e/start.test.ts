/**
 * `npm start` end to end, in Node: the real scripts/start.ts, wrangler dev, workerd and the
 * demo origin, reached over HTTP on 127.0.0.1 like a user's curl would.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const READY_TIMEOUT_MS = 60_000;
const BAD_CONFIG_TIMEOUT_MS = 20_000;

interface Run {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

/** `npm start -- <args>` in its own process group, so the whole tree can be stopped. */
function npmStart(args: string[]): Run {
  const child = spawn("npm", ["start", "--", ...args], { cwd: ROOT, detached: true, stdio: "pipe" });
  const output = { stdout: "", stderr: "" };
  child.stdout?.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output, exited };
}

function stopGroup(run: Run, signal: NodeJS.Signals): void {
  try {
    if (run.child.pid !== undefined) process.kill(-run.child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A GET with a chosen Host header (fetch would not let us set it). */
function get(port: number, path: string, host: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject).end();
  });
}

function within<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe("npm start with an invalid tenants file", () => {
  it("lists every problem with its path and exits before listening", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "brim-e2e-")), "tenants.json");
    const route = { path: "/*", cache: { ttl: -5 } };
    const tenant = { id: "bad", hosts: ["bad.test"], origin: "http://127.0.0.1:1", routes: [route], colour: "red" };
    writeFileSync(file, JSON.stringify({ tenants: [tenant] }));
    const port = await freePort();

    const run = npmStart(["--config", file, "--port", String(port)]);
    const code = await within(run.exited, BAD_CONFIG_TIMEOUT_MS, () => JSON.stringify(run.output));

    expect(code).not.toBe(0);
    expect(run.output.stderr).toContain(`brim: ${file}: invalid config`);
    expect(run.output.stderr).toMatch(/^\s*tenants\[0\]\.routes\[0\]\.cache\.ttl: .*-5/m);
    expect(run.output.stderr).toMatch(/^\s*tenants\[0\]\.colour: /m);
    expect(run.output.stdout).not.toContain("starting wrangler");
    expect(await isListening(port)).toBe(false);
  });
});

describe("npm start demo stack", () => {
  let port = 0;
  let run: Run;

  beforeAll(async () => {
    port = await freePort();
    const originPort = await freePort();
    run = npmStart(["--port", String(port), "--origin-port", String(originPort)]);
    let check: NodeJS.Timeout | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      check = setInterval(() => run.output.stdout.includes("brim: ready on") && resolve(), 100);
      void run.exited.then((code) => reject(new Error(`npm start exited with ${code}: ${JSON.stringify(run.output)}`)));
    });
    await within(ready, READY_TIMEOUT_MS, () => JSON.stringify(run.output)).finally(() => clearInterval(check));
  });

  afterAll(async () => {
    if (!run) return;
    stopGroup(run, "SIGTERM");
    await within(run.exited, 10_000, () => "npm start ignored SIGTERM").catch(() => stopGroup(run, "SIGKILL"));
  });

  it("forwards a miss to the origin, then serves the same URL from cache", async () => {
    const host = `127.0.0.1:${port}`;
    const first = await get(port, "/api/catalog/1", host);
    expect(first.status).toBe(200);
    expect(first.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(first.body)).toMatchObject({ id: 1, brand: "acme" });
    expect(first.headers["cache-status"]).toMatch(/^Brim;/);
    expect(first.headers["cache-status"]).toContain("fwd=");

    // The store completes in waitUntil, after the first response; allow it a moment.
    let again = await get(port, "/api/catalog/1", host);
    for (let tries = 0; tries < 10 && !String(again.headers["cache-status"]).includes("hit"); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      again = await get(port, "/api/catalog/1", host);
    }
    expect(again.status).toBe(200);
    expect(again.headers["cache-status"]).toContain("hit");
    expect(again.body).toBe(first.body);
  });

  it("answers 421 for a host no tenant claims", async () => {
    const reply = await get(port, "/api/catalog/1", `unknown.example:${port}`);
    expect(reply.status).toBe(421);
  });

  it("serves another tenant's own content for its host", async () => {
    const reply = await get(port, "/api/catalog/1", `globex.localhost:${port}`);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ id: 1, brand: "globex" });
    expect(reply.headers["cache-status"]).toMatch(/^Brim;/);
  });
});
