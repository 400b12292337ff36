/**
 * `npm run deploy -- --config tenants.json --url https://brim.example.com [-- <wrangler deploy args>]`:
 * puts Brim on Cloudflare and its tenants into the config store (docs/deployment.md).
 *
 * 1. validates the tenants file exactly as `npm start` does (an invalid or empty one stops here);
 * 2. checks with `wrangler secret list` that the Worker has BRIM_PLATFORM_TOKEN and every secret
 *    the file names, and refuses otherwise (skipped, saying so, with --dry-run);
 * 3. runs `wrangler deploy` (arguments after a second `--` go to it unchanged);
 * 4. pushes the file as a new config version to `--url` with BRIM_PLATFORM_TOKEN from the
 *    environment, and prints the version.
 *
 * `BRIM_WRANGLER` replaces the wrangler binary (scripts/lib/cli.ts), for tests.
 */
import { parseCommandLine, usageError } from "./lib/args";
import { captureWrangler, exitCodeOf, fail, spawnWrangler } from "./lib/cli";
import { describeConfig, loadTenantsFile, secretsNamedIn } from "./lib/config";
import { PLATFORM_TOKEN_ENV, PlatformClient, PlatformError, type WriteResult, platformBaseUrl } from "./lib/platform";
import { describeWrite, explainPlatformError } from "./lib/platform-report";

/** A Worker just deployed may take a few seconds to answer on its routes; pushes are retried this long. */
const PUSH_RETRY_MS = 60_000;
const PUSH_RETRY_INTERVAL_MS = 2_000;
const PUBLISH_WAIT_MS = 120_000;
/** wrangler flags that choose which Worker `wrangler secret list` must look at, with their value. */
const TARGET_FLAGS = new Set(["--env", "-e", "--name", "--config", "-c"]);

const argv = process.argv.slice(2);
const split = argv.indexOf("--");
const ours = split === -1 ? argv : argv.slice(0, split);
const forWrangler = split === -1 ? [] : argv.slice(split + 1);

const USAGE = `Usage: npm run deploy -- --config FILE --url URL [--dry-run] [-- WRANGLER_DEPLOY_ARGS...]

Validates the tenants file exactly as npm start does, checks that the Worker has the secrets
it needs (wrangler secret list), runs wrangler deploy, then pushes the file to the Worker's
config store as a new version. An invalid file never reaches Cloudflare.

  --config FILE   the tenants file (default tenants.json)
  --url URL       where the deployed Worker answers, for the platform API
                  (e.g. https://brim.example.com); the token is ${PLATFORM_TOKEN_ENV}
                  from the environment and must equal the Worker's secret
  --dry-run       validate and bundle only (wrangler deploy --dry-run): no secret
                  check, no upload, no push
  -h, --help      this text

wrangler's own flags go after a second "--":
  npm run deploy -- --config prod.json --url https://brim.example.com -- --env production
See docs/deployment.md.`;

const spec = { name: "brim", usage: USAGE };
const values = parseCommandLine({
  ...spec,
  options: { config: { type: "string" }, url: { type: "string" }, "dry-run": { type: "boolean" } },
  args: ours,
});
const dryRun = values["dry-run"] === true || forWrangler.includes("--dry-run");
const file = values.config ?? "tenants.json";
const url = values.url;
if (!dryRun && url === undefined) usageError(spec, "--url is needed to push the config after deploying (or --dry-run)");
const checkedUrl = url === undefined ? null : platformBaseUrl(url);
if (checkedUrl !== null && typeof checkedUrl !== "string") usageError(spec, checkedUrl.problem);

const { config, json } = loadTenantsFile(file);
const summary = describeConfig(config);

let token = "";
if (dryRun) {
  console.log("brim: dry run: not checking the Worker's secrets (wrangler secret list), not uploading, not pushing the config");
} else {
  token = process.env[PLATFORM_TOKEN_ENV] ?? "";
  if (token === "") fail(`${PLATFORM_TOKEN_ENV} is not set: export the platform token (the Worker secret of that name) to push the config`);
  await checkSecrets();
}

console.log(`brim: deploying the Worker (${file}: ${summary})`);
const wranglerArgs = ["deploy", ...forWrangler, ...(dryRun && !forWrangler.includes("--dry-run") ? ["--dry-run"] : [])];
const wrangler = spawnWrangler(wranglerArgs);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => wrangler.kill(signal));
wrangler.on("error", (error) => fail(`cannot run wrangler: ${error.message}`));
wrangler.on("exit", (code, signal) => {
  const exitCode = exitCodeOf(code, signal);
  if (exitCode !== 0) fail(`wrangler deploy failed (exit ${exitCode}); the config was not pushed`);
  if (dryRun) {
    console.log(`brim: dry run done; ${file} is valid (${summary})`);
    process.exit(0);
  }
  void push(url as string).then(
    () => process.exit(0),
    (error: unknown) => fail(error instanceof Error ? error.message : String(error)),
  );
});

/** Refuses (exit 1) unless the Worker has BRIM_PLATFORM_TOKEN and every secret the file names. */
async function checkSecrets(): Promise<void> {
  const args = ["secret", "list", "--format", "json", ...targetArgs(forWrangler)];
  const listed = await captureWrangler(args);
  if (listed.code !== 0) {
    fail(
      [
        `cannot list the Worker's secrets (wrangler ${args.join(" ")} exited ${listed.code ?? "without running"}):`,
        ...tail(listed.stderr || listed.stdout),
        `a new Worker: set its secrets first (npx wrangler secret put ${PLATFORM_TOKEN_ENV} creates it); see docs/deployment.md`,
      ].join("\n"),
    );
  }
  const names = secretNames(listed.stdout);
  if (names === null) fail(`cannot read wrangler secret list's output as JSON:\n${tail(listed.stdout).join("\n")}`);
  const needed = [
    { secret: PLATFORM_TOKEN_ENV, why: "the platform API token" },
    ...secretsNamedIn(config).map(({ tenant, secret, field }) => ({ secret, why: `tenant ${tenant}, ${field}` })),
  ];
  const missing = needed.filter(({ secret }) => !names.has(secret));
  if (missing.length > 0) {
    fail(
      [
        "the Worker lacks secrets; set each, then deploy again:",
        ...missing.map(({ secret, why }) => `  npx wrangler secret put ${secret}   # ${why}`),
      ].join("\n"),
    );
  }
  console.log(`brim: the Worker has the ${needed.length} secret${needed.length === 1 ? "" : "s"} it needs`);
}

/** Pushes the file as a new version, retrying while the new deployment is not reachable yet. */
async function push(base: string): Promise<void> {
  const client = new PlatformClient({ url: base, token });
  const deadline = Date.now() + PUSH_RETRY_MS;
  let result: WriteResult;
  for (;;) {
    try {
      result = await client.putConfig(json);
      break;
    } catch (error) {
      if (!(error instanceof PlatformError)) throw error;
      // Right after `wrangler deploy`, old isolates may still answer: a 404 from an older Brim
      // without the platform API, or its tenant admin app's refusal, is not this Worker's word yet.
      const transient =
        error.code === "UNREACHABLE" || error.code === "BAD_RESPONSE" || error.code === "REFUSED" || error.code === "PLATFORM_NOT_FOUND";
      if (!transient || Date.now() >= deadline) {
        const lines = explainPlatformError(error, base);
        throw new Error(
          ["the Worker is deployed, but the config push failed:", ...lines, `retry: npm run config -- push ${file} --url ${base}`].join(
            "\n",
          ),
        );
      }
      console.log(`brim: ${base} does not answer the platform API yet (${error.code}); retrying`);
      await new Promise((resolve) => setTimeout(resolve, PUSH_RETRY_INTERVAL_MS));
    }
  }
  let published = result.published;
  if (!published && result.version !== result.previousVersion) {
    console.log(`brim: version ${result.version} stored; waiting up to ${PUBLISH_WAIT_MS / 1000} s for the edge copy…`);
    published = await client.waitForPublished(result.version, PUBLISH_WAIT_MS);
  }
  console.log(`brim: deployed; config ${describeWrite(result, published)}`);
  if (!published && result.version !== result.previousVersion) {
    throw new Error(`version ${result.version} is stored but not yet on the edge; check with: npm run config -- show --url ${base}`);
  }
}

/** The flags among wrangler's arguments that pick the Worker (`--env production`, `--name x`, `--config y`). */
function targetArgs(args: readonly string[]): string[] {
  const picked: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [flag] = arg.split("=", 1) as [string];
    if (!TARGET_FLAGS.has(flag)) continue;
    if (arg.includes("=")) picked.push(arg);
    else if (i + 1 < args.length) picked.push(arg, args[++i] as string);
  }
  return picked;
}

/** Secret names from `wrangler secret list --format json` (`[{"name": ..., "type": "secret_text"}]`), or null. */
function secretNames(stdout: string): Set<string> | null {
  const start = stdout.indexOf("[");
  if (start === -1) return null;
  try {
    const list: unknown = JSON.parse(stdout.slice(start));
    if (!Array.isArray(list)) return null;
    return new Set(list.flatMap((entry: { name?: unknown }) => (typeof entry?.name === "string" ? [entry.name] : [])));
  } catch {
    return null;
  }
}

function tail(text: string): string[] {
  return text
    .trim()
    .split("\n")
    .slice(-8)
    .map((line) => `  ${line}`);
}
