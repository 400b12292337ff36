/**
 * `npm start`: Brim locally, under `wrangler dev` on 127.0.0.1.
 *
 *   npm start                                  demo: demo origin + fixtures/tenants.demo.json
 *   npm start -- --port 8788 --origin-port 9001
 *   npm start -- --config tenants.json [--port 8787]
 *
 * The tenants file is validated first; a bad one is reported and nothing starts. The demo
 * origin runs in this process (a port clash is reported before wrangler starts); wrangler is
 * a child whose exit code becomes ours. SIGINT/SIGTERM are forwarded to it. Every run starts
 * with an empty cache (wrangler's state lives in a temporary directory), so the "miss, then
 * hit" walk-through holds after a restart.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_DEMO_ORIGIN_PORT, type DemoOrigin, startDemoOrigin } from "../fixtures/demo-origin";
import { parseCommandLine } from "./lib/args";
import { assertPortFree, exitCodeOf, fail, portOption, spawnWrangler, waitForHttp } from "./lib/cli";
import { describeConfig, loadTenantsFile } from "./lib/config";
import { tryThese } from "./lib/hints";

const DEFAULT_PORT = 8787;
const DEMO_TENANTS = fileURLToPath(new URL("../fixtures/tenants.demo.json", import.meta.url));
/** First start compiles the worker; later ones take a second or two. */
const READY_TIMEOUT_MS = 60_000;

const USAGE = `Usage: npm start -- [--config FILE] [--port N] [--origin-port N]

Runs Brim locally under wrangler dev on 127.0.0.1, after validating the tenants file.

  (no --config)        demo: fixtures/tenants.demo.json and the demo origin
  --config FILE        your tenants file instead (no demo origin)
  --port N             Brim's port (default ${DEFAULT_PORT})
  --origin-port N      the demo origin's port (default ${DEFAULT_DEMO_ORIGIN_PORT}; demo only)
  -h, --help           this text

Examples:
  npm start
  npm start -- --port 8788 --origin-port 9001
  npm start -- --config tenants.json --port 8787`;

const values = parseCommandLine({
  name: "brim",
  usage: USAGE,
  options: { config: { type: "string" }, port: { type: "string" }, "origin-port": { type: "string" } },
});
const demo = values.config === undefined;
if (!demo && values["origin-port"] !== undefined) fail("--origin-port applies only to the demo (without --config)");
const port = portOption("--port", values.port, DEFAULT_PORT);
const originPort = portOption("--origin-port", values["origin-port"], DEFAULT_DEMO_ORIGIN_PORT);

// The demo file is written for the default ports; point it at the ones chosen.
const retarget = (text: string) => text.replace(/:8787\b/g, `:${port}`).replace(/127\.0\.0\.1:9000\b/g, `127.0.0.1:${originPort}`);
const file = values.config ?? DEMO_TENANTS;
const { config, json } = loadTenantsFile(file, demo ? retarget : undefined);

await assertPortFree(port, "--port");
let origin: DemoOrigin | null = null;
if (demo) {
  origin = await startDemoOrigin(originPort).catch((error: NodeJS.ErrnoException) => {
    const why = error.code ?? error.message;
    return fail(`demo origin: cannot listen on 127.0.0.1:${originPort} (${why}); choose another with --origin-port`);
  });
}

const state = mkdtempSync(join(tmpdir(), "brim-dev-"));
console.log(`brim: starting wrangler dev on http://127.0.0.1:${port} (${describeConfig(config)})`);
const wrangler = spawnWrangler([
  "dev",
  "--ip",
  "127.0.0.1",
  "--port",
  String(port),
  "--var",
  `BRIM_CONFIG:${json}`,
  "--persist-to",
  state,
  "--show-interactive-dev-session=false",
]);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // A second Ctrl-C means "now".
    wrangler.kill(stopping ? "SIGKILL" : signal);
    stopping = true;
  });
}

wrangler.on("error", (error) => {
  void origin?.close();
  fail(`cannot run wrangler: ${error.message}`);
});
wrangler.on("exit", async (code, signal) => {
  stopping = true;
  await origin?.close();
  rmSync(state, { recursive: true, force: true });
  process.exit(exitCodeOf(code, signal));
});

if (await waitForHttp(port, READY_TIMEOUT_MS)) {
  if (!stopping) console.log(tryThese(config, port, demo));
} else if (!stopping) {
  console.error(`brim: wrangler did not answer on port ${port} within ${READY_TIMEOUT_MS / 1000} s; stopping`);
  wrangler.kill("SIGTERM");
}
