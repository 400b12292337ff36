/**
 * `npm run deploy -- [--config tenants.json] [-- <wrangler deploy args>]`: validates the
 * tenants file exactly as `npm start` does, then runs `wrangler deploy` with it as the
 * `BRIM_CONFIG` var. Arguments after a second `--` go to wrangler unchanged
 * (e.g. `npm run deploy -- --config prod.json -- --env production --dry-run`).
 */
import { parseCommandLine } from "./lib/args";
import { exitCodeOf, fail, spawnWrangler } from "./lib/cli";
import { describeConfig, loadTenantsFile } from "./lib/config";

/** Cloudflare's limit on one environment variable's value. */
const MAX_VAR_BYTES = 5 * 1024;

const argv = process.argv.slice(2);
const split = argv.indexOf("--");
const ours = split === -1 ? argv : argv.slice(0, split);
const forWrangler = split === -1 ? [] : argv.slice(split + 1);

const USAGE = `Usage: npm run deploy -- [--config FILE] [-- WRANGLER_DEPLOY_ARGS...]

Validates the tenants file exactly as npm start does, then runs wrangler deploy with it as
the BRIM_CONFIG var. An invalid file never reaches Cloudflare.

  --config FILE   the tenants file (default tenants.json)
  -h, --help      this text

wrangler's own flags go after a second "--":
  npm run deploy -- --config prod.json -- --env production --dry-run
See docs/deployment.md.`;

const values = parseCommandLine({ name: "brim", usage: USAGE, options: { config: { type: "string" } }, args: ours });
const file = values.config ?? "tenants.json";

const { config, json } = loadTenantsFile(file);
const summary = describeConfig(config);
const bytes = Buffer.byteLength(json);
if (bytes > MAX_VAR_BYTES) {
  console.warn(
    `brim: warning: ${file} is ${bytes} bytes as compact JSON, over Cloudflare's ${MAX_VAR_BYTES / 1024} KB ` +
      "limit for one variable, so the upload may be rejected; see docs/deployment.md.",
  );
}

console.log(`brim: deploying ${file} (${summary})`);
const wrangler = spawnWrangler(["deploy", "--var", `BRIM_CONFIG:${json}`, ...forWrangler]);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => wrangler.kill(signal));
wrangler.on("error", (error) => fail(`cannot run wrangler: ${error.message}`));
wrangler.on("exit", (code, signal) => {
  const exitCode = exitCodeOf(code, signal);
  if (exitCode === 0) console.log(`brim: ${forWrangler.includes("--dry-run") ? "dry run of" : "deployed"} ${summary}`);
  else console.error(`brim: wrangler deploy failed (exit ${exitCode})`);
  process.exit(exitCode);
});
