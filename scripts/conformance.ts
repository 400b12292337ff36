/**
 * `npm run conformance`: the HTTP caching conformance suite (http-tests/cache-tests, proxy mode)
 * against Brim under `npm start`, with pass/fail counts compared to the suite's published
 * results for other caches. Not part of `npm test`: it takes a few minutes.
 *
 * The suite is used from `../shared/cache-tests` (an unmodified copy, see its SOURCE.md) or
 * `--suite DIR`. Its client and tests are copied to a temporary directory next to a link to
 * Brim's node_modules, because the client imports `undici` (interim responses) and ESM resolves
 * packages only from the importing file's own directories.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCommandLine } from "./lib/args";
import { comparisonTable, count, loadSuite, published, type RawResults } from "./lib/cache-tests";
import { assertPortFree, fail, portOption, waitForHttp } from "./lib/cli";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEFAULT_SUITE = resolve(ROOT, "../shared/cache-tests");
const DEFAULT_PORT = 8797;
const DEFAULT_ORIGIN_PORT = 8798;
/** First start compiles the worker; the suite's server starts in well under a second. */
const READY_TIMEOUT_MS = 90_000;
/** Request headers the suite's client sends for its own bookkeeping, never to vary a response. */
const HARNESS_HEADERS = {
  "req-num": "cache-tests: the origin's request counter",
  "test-id": "cache-tests: test id, logged only",
  "test-name": "cache-tests: test name, logged only",
};
const TSX = join(ROOT, "node_modules/.bin/tsx");

const USAGE = `Usage: npm run conformance -- [--suite DIR] [--port N] [--origin-port N] [--id TEST] [--out FILE]

Runs http-tests/cache-tests (proxy mode) against Brim under npm start and prints the
required/optional pass and fail counts, the failing test ids, and how other caches do
in the suite's published results. Exits 1 when a required test fails.

  --suite DIR        the suite (default ../shared/cache-tests beside the repo)
  --port N           Brim's port (default ${DEFAULT_PORT})
  --origin-port N    the suite's origin server port (default ${DEFAULT_ORIGIN_PORT})
  --id TEST          run one test, with the suite's request/response dump
  --out FILE         also write the raw results (the suite's JSON format) to FILE
  --markdown         print the comparison as a Markdown table (for docs/conformance.md)
  -h, --help         this text

Examples:
  npm run conformance
  npm run conformance -- --id freshness-max-age-age
  npm run conformance -- --out /tmp/brim.json --markdown`;

const values = parseCommandLine({
  name: "conformance",
  usage: USAGE,
  options: {
    suite: { type: "string" },
    port: { type: "string" },
    "origin-port": { type: "string" },
    id: { type: "string" },
    out: { type: "string" },
    markdown: { type: "boolean" },
  },
});
const suiteDir = resolve(values.suite ?? DEFAULT_SUITE);
if (!existsSync(join(suiteDir, "test-engine/cli.mjs"))) {
  fail(`no cache-tests suite at ${suiteDir} (expected test-engine/cli.mjs); pass --suite DIR`);
}
const port = portOption("--port", values.port, DEFAULT_PORT);
const originPort = portOption("--origin-port", values["origin-port"], DEFAULT_ORIGIN_PORT);
await assertPortFree(port, "--port");
await assertPortFree(originPort, "--origin-port");

const work = mkdtempSync(join(tmpdir(), "brim-conformance-"));
for (const part of ["test-engine", "tests", "package.json"]) cpSync(join(suiteDir, part), join(work, part), { recursive: true });
symlinkSync(join(ROOT, "node_modules"), join(work, "node_modules"), "dir");
const tenants = join(work, "tenants.json");
writeFileSync(tenants, JSON.stringify(tenantsFor(port, originPort), null, 2));

const children: ChildProcess[] = [];
const stopAll = () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
};
process.on("exit", () => {
  stopAll();
  rmSync(work, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

const log = join(work, "servers.log");
const logFd = openSync(log, "a");
const server = { cwd: work, stdio: ["ignore", logFd, logFd] as ["ignore", number, number] };
children.push(
  spawn(process.execPath, ["test-engine/server/server.mjs"], {
    ...server,
    env: { ...process.env, npm_config_protocol: "http", npm_config_port: String(originPort), npm_config_pidfile: join(work, "server.pid") },
  }),
);
children.push(spawn(TSX, [join(ROOT, "scripts/start.ts"), "--config", tenants, "--port", String(port)], { ...server, cwd: ROOT }));
console.log(`conformance: starting the suite's origin on :${originPort} and Brim on :${port}`);
if (!(await waitForHttp(port, READY_TIMEOUT_MS))) {
  console.error(readFileSync(log, "utf8"));
  fail(`Brim did not answer on port ${port} within ${READY_TIMEOUT_MS / 1000} s`);
}

console.log(`conformance: running ${values.id ?? "every test"} (a few minutes)`);
const output = await runClient(values.id ?? "");
stopAll();
if (values.id !== undefined) {
  console.log(output);
  process.exit(0);
}

const results = JSON.parse(output) as RawResults;
if (values.out !== undefined) writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
const suite = await loadSuite(suiteDir);
const brim = count(suite, results);
const others = published(suite, suiteDir);
console.log(`
Brim: required ${brim.requiredPass} pass, ${brim.requiredFail} fail; optional ${brim.optionalPass} pass, ${brim.optionalFail} fail; checks ${brim.checkYes} yes, ${brim.checkNo} no; ${brim.other} not run (setup, harness or dependency)
required failures: ${brim.requiredFailures.join(" ") || "none"}
optional failures: ${brim.optionalFailures.join(" ") || "none"}
`);
if (values.markdown) console.log(comparisonTable(brim, others));
else {
  for (const o of others) {
    const c = o.counts;
    console.log(
      `${`${o.name} (${o.type})`.padEnd(22)} required ${c.requiredPass} pass, ${c.requiredFail} fail; optional ${c.optionalPass} pass, ${c.optionalFail} fail`,
    );
  }
}
process.exit(brim.requiredFail === 0 ? 0 : 1);

/**
 * One tenant for the suite's origin, every path cached with Brim's defaults. The suite's
 * bookkeeping headers are forwarded unkeyed (the origin counts requests by `Req-Num`): Brim
 * sends an origin only the headers a shared response may depend on (docs/security.md).
 */
function tenantsFor(brimPort: number, suitePort: number) {
  return {
    tenants: [
      {
        id: "conformance",
        hosts: [`127.0.0.1:${brimPort}`],
        origin: `http://127.0.0.1:${suitePort}`,
        routes: [{ path: "/*", cache: { forwardUnkeyed: HARNESS_HEADERS } }],
      },
    ],
  };
}

/** Runs the suite's CLI against Brim; resolves with its stdout (JSON, or a one-test dump). */
function runClient(id: string): Promise<string> {
  return new Promise((done) => {
    const client = spawn(process.execPath, ["--no-warnings", "test-engine/cli.mjs"], {
      cwd: work,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, npm_config_base: `http://127.0.0.1:${port}`, npm_config_id: id, npm_package_config_id: id },
    });
    children.push(client);
    let out = "";
    client.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    client.on("exit", (code) => {
      if (code !== 0) fail(`the suite's client exited with ${code}:\n${out}`);
      done(out);
    });
  });
}
