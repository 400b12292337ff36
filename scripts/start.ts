/**
 * `npm start`: Brim locally, under `wrangler dev` on 127.0.0.1.
 *
 *   npm start                                  demo: demo origin + fixtures/tenants.demo.json
 *   npm start -- --port 8788 --origin-port 9001
 *   npm start -- --config tenants.json [--port 8787] [--env-file secrets.env]
 *
 * The tenants file is validated first; a bad one is reported and nothing starts. The demo
 * origin runs in this process (a port clash is reported before wrangler starts); wrangler is
 * a child whose exit code becomes ours. SIGINT/SIGTERM are forwarded to it. Once the Worker
 * answers, the file is pushed through the platform API as the store's first version, and only
 * then is Brim reported ready. Every run starts with an empty cache and an empty config store
 * (wrangler's state lives in a temporary directory), so the "miss, then hit" walk-through
 * holds after a restart.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_DEMO_ORIGIN_PORT, type DemoOrigin, startDemoOrigin } from "../fixtures/demo-origin";
import { parseCommandLine } from "./lib/args";
import { assertPortFree, exitCodeOf, fail, portOption, spawnWrangler, waitForHttp } from "./lib/cli";
import { describeConfig, loadTenantsFile, secretsNamedIn } from "./lib/config";
import { devSecrets, isSet } from "./lib/dev-secrets";
import { tryThese } from "./lib/hints";
import { PLATFORM_TOKEN_ENV, PlatformClient, PlatformError } from "./lib/platform";
import { describeWrite, explainPlatformError, missingSecretLines } from "./lib/platform-report";

const DEFAULT_PORT = 8787;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEMO_TENANTS = fileURLToPath(new URL("../fixtures/tenants.demo.json", import.meta.url));
const DEMO_ENV = "fixtures/demo.env";
/** First start compiles the worker; later ones take a second or two. */
const READY_TIMEOUT_MS = 60_000;
/** Locally the edge copy is written as part of the push; this only bounds a surprise. */
const PUBLISH_WAIT_MS = 30_000;
const TOKEN_BYTES = 24;

const USAGE = `Usage: npm start -- [--config FILE] [--port N] [--origin-port N] [--env-file FILE]

Runs Brim locally under wrangler dev on 127.0.0.1: validates the tenants file, starts the
Worker, then pushes the file to its config store (version 1) through the platform API.

  (no --config)        demo: fixtures/tenants.demo.json, the demo origin, secrets from ${DEMO_ENV}
  --config FILE        your tenants file instead (no demo origin)
  --port N             Brim's port (default ${DEFAULT_PORT})
  --origin-port N      the demo origin's port (default ${DEFAULT_DEMO_ORIGIN_PORT}; demo only)
  --env-file FILE      the Worker's secrets (dotenv: NAME=value lines); wrangler then reads
                       this file only, not .dev.vars (default: .dev.vars, else .env)
  -h, --help           this text

${PLATFORM_TOKEN_ENV} (the platform API token) comes from the secrets file; when it is not
there, a random one is made for this run. Either way it is printed, as an export line for
npm run config.

Examples:
  npm start
  npm start -- --port 8788 --origin-port 9001
  npm start -- --config tenants.json --port 8787 --env-file secrets.env`;

const values = parseCommandLine({
  name: "brim",
  usage: USAGE,
  options: {
    config: { type: "string" },
    port: { type: "string" },
    "origin-port": { type: "string" },
    "env-file": { type: "string" },
  },
});
const demo = values.config === undefined;
if (!demo && values["origin-port"] !== undefined) fail("--origin-port applies only to the demo (without --config)");
const port = portOption("--port", values.port, DEFAULT_PORT);
const originPort = portOption("--origin-port", values["origin-port"], DEFAULT_DEMO_ORIGIN_PORT);

// The demo file is written for the default ports; point it at the ones chosen.
const retarget = (text: string) => text.replace(/:8787\b/g, `:${port}`).replace(/127\.0\.0\.1:9000\b/g, `127.0.0.1:${originPort}`);
const file = values.config ?? DEMO_TENANTS;
const { config, json } = loadTenantsFile(file, demo ? retarget : undefined);

const secrets = devSecrets(values["env-file"] ?? (demo ? DEMO_ENV : undefined), ROOT);
for (const { tenant, secret, field } of secretsNamedIn(config)) {
  if (!isSet(secrets, secret)) {
    console.warn(`brim: warning: tenant ${tenant} names the secret ${secret} (${field}), which ${secrets.source} does not set`);
  }
}
// From the secrets file when it sets one; otherwise made up for this run and passed with --var.
const tokenFromFile = isSet(secrets, PLATFORM_TOKEN_ENV);
const token = tokenFromFile ? (secrets.values[PLATFORM_TOKEN_ENV] as string) : randomBytes(TOKEN_BYTES).toString("base64url");

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
  ...secrets.wranglerArgs,
  ...(tokenFromFile ? [] : ["--var", `${PLATFORM_TOKEN_ENV}:${token}`]),
  "--persist-to",
  state,
  "--show-interactive-dev-session=false",
]);

let stopping = false;
/** Set when we stop wrangler because start-up failed: then the exit code is 1, whatever wrangler's. */
let failed = false;
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
  process.exit(failed ? 1 : exitCodeOf(code, signal));
});

if (!(await waitForHttp(port, READY_TIMEOUT_MS))) {
  if (!stopping) {
    console.error(`brim: wrangler did not answer on port ${port} within ${READY_TIMEOUT_MS / 1000} s; stopping`);
    failed = true;
    wrangler.kill("SIGTERM");
  }
} else if (!stopping) {
  const version = await seed();
  if (version !== null && !stopping) {
    console.log(tokenLines());
    const defaultPorts = port === DEFAULT_PORT && originPort === DEFAULT_DEMO_ORIGIN_PORT;
    console.log(tryThese({ config, port, demo, version, secrets: secrets.values, defaultPorts }));
  }
}

/** Pushes the file as the store's first version; null (and wrangler stopped) when that fails. */
async function seed(): Promise<number | null> {
  const url = `http://127.0.0.1:${port}`;
  const client = new PlatformClient({ url, token });
  try {
    const result = await client.putConfig(json);
    const published = result.published || (await client.waitForPublished(result.version, PUBLISH_WAIT_MS));
    console.log(`brim: config pushed: ${describeWrite(result, published)}`);
    const missing = missingSecretLines(result.missingSecrets);
    if (missing.length > 0) {
      console.warn(["brim: warning: the Worker reports secrets it lacks:", ...missing.map((line) => `  ${line}`)].join("\n"));
    }
    return result.version;
  } catch (error) {
    if (!(error instanceof PlatformError)) throw error;
    console.error(["brim: cannot seed the config store:", ...explainPlatformError(error, url)].join("\n"));
    failed = true;
    wrangler.kill("SIGTERM");
    return null;
  }
}

function tokenLines(): string {
  const where = tokenFromFile
    ? `from ${secrets.source}`
    : `made for this run; set ${PLATFORM_TOKEN_ENV} in --env-file or .dev.vars to keep one`;
  const lines = [`brim: platform token (${where}); for npm run config:`, `  export ${PLATFORM_TOKEN_ENV}=${token}`];
  const shell = process.env[PLATFORM_TOKEN_ENV];
  if (shell !== undefined && shell !== token)
    lines.push(`brim: note: your shell's ${PLATFORM_TOKEN_ENV} is a different one; run the export above`);
  return lines.join("\n");
}
