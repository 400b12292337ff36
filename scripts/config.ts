/**
 * `npm run config -- <command>`: Brim's tenant config store through the platform API
 * (docs/operations.md#the-config-cli, docs/control-plane.md). Files are validated here first,
 * with the same `path: reason` lines as `npm start`, so an invalid one is never sent.
 *
 * Exit codes: 0 done, 1 failed (invalid file, refused, unreachable), 2 called the wrong way.
 */
import { parseCommandLineWithPositionals, usageError } from "./lib/args";
import { fail } from "./lib/cli";
import { describeConfig, loadTenantFile, loadTenantsFile } from "./lib/config";
import {
  type ConfigState,
  DEFAULT_PLATFORM_URL,
  PLATFORM_TOKEN_ENV,
  PlatformClient,
  PlatformError,
  type WriteResult,
  platformBaseUrl,
} from "./lib/platform";
import { describeWrite, explainPlatformError, missingSecretLines } from "./lib/platform-report";

/** How long a write waits for the edge copy to catch up before saying it has not yet. */
const PUBLISH_WAIT_MS = 120_000;

const USAGE = `Usage: npm run config -- COMMAND [ARGS] [--url URL] [--json]

Brim's tenant config store, through the Worker's platform API. Files are validated
locally first (the same problem lines as npm start) and never sent when invalid.

Commands:
  validate FILE        check a tenants file locally (no network)
  push FILE            make FILE's tenants the whole config (a new version)
  push-tenant FILE     add or replace the one tenant FILE holds
  delete-tenant ID     remove a tenant
  show                 the active version, its tenants and the secrets they lack
  versions             the stored versions, newest first
  rollback N           make version N's config active again (as a new version)

Options:
  --url URL            the Worker (default ${DEFAULT_PLATFORM_URL}, npm start's)
  --json               show: print the active tenants document; versions: the list as JSON
  -h, --help           this text

The token comes from the environment: export ${PLATFORM_TOKEN_ENV}=... (npm start prints it).
Exit codes: 0 done, 1 failed, 2 usage error.

Examples:
  npm run config -- validate tenants.json
  npm run config -- push tenants.json
  npm run config -- show --url https://brim.example.com
  npm run config -- rollback 3`;

/** Command → its positional argument's name, or null for none. */
const COMMANDS: Record<string, string | null> = {
  validate: "FILE",
  push: "FILE",
  "push-tenant": "FILE",
  "delete-tenant": "ID",
  show: null,
  versions: null,
  rollback: "N",
};

const spec = { name: "brim", usage: USAGE };
const { values, positionals } = parseCommandLineWithPositionals({
  ...spec,
  options: { url: { type: "string" }, json: { type: "boolean" } },
});
const [command, argument, ...extra] = positionals;
if (command === undefined) usageError(spec, "which command? (validate, push, push-tenant, delete-tenant, show, versions, rollback)");
if (!(command in COMMANDS)) usageError(spec, `unknown command "${command}"`);
const wants = COMMANDS[command];
if (wants && argument === undefined) usageError(spec, `${command} needs ${wants}`);
if ((!wants && argument !== undefined) || extra.length > 0)
  usageError(spec, `${command}: unexpected argument "${wants ? extra[0] : argument}"`);
if (values.json && command !== "show" && command !== "versions") usageError(spec, "--json applies to show and versions only");
if (values.url !== undefined && command === "validate") usageError(spec, "validate is local; it takes no --url");

const version = Number(argument);
if (command === "rollback" && !(Number.isInteger(version) && version >= 1)) {
  usageError(spec, `rollback: expected a version number, got "${argument}"`);
}
const url = values.url ?? DEFAULT_PLATFORM_URL;
const checkedUrl = platformBaseUrl(url);
if (typeof checkedUrl !== "string") usageError(spec, checkedUrl.problem);

if (command === "validate") {
  const { config } = loadTenantsFile(argument as string);
  console.log(`brim: ${argument}: valid (${describeConfig(config)})`);
  process.exit(0);
}

const token = process.env[PLATFORM_TOKEN_ENV];
if (!token)
  fail(`${PLATFORM_TOKEN_ENV} is not set: export it first (npm start prints it; in production it is the Worker secret of that name)`);
const client = new PlatformClient({ url, token });

try {
  switch (command) {
    case "push": {
      const { config, json } = loadTenantsFile(argument as string);
      console.log(`brim: pushing ${argument} (${describeConfig(config)}) to ${url}`);
      await reportWrite(await client.putConfig(json));
      break;
    }
    case "push-tenant": {
      const { tenant, json } = loadTenantFile(argument as string);
      console.log(`brim: pushing tenant ${tenant.id} from ${argument} to ${url}`);
      await reportWrite(await client.putTenant(tenant.id, json));
      break;
    }
    case "delete-tenant":
      await reportWrite(await client.deleteTenant(argument as string));
      break;
    case "rollback": {
      console.log(`brim: rolling back to version ${version}'s config`);
      await reportWrite(await client.rollback(version));
      break;
    }
    case "show": {
      const state = await client.getConfig();
      console.log(values.json ? JSON.stringify(state.document, null, 2) : describeState(state));
      break;
    }
    case "versions":
      await printVersions();
      break;
  }
} catch (error) {
  if (!(error instanceof PlatformError)) throw error;
  // Anywhere else, a 404 means the Worker has no config store (explained below).
  if (error.code === "PLATFORM_NOT_FOUND" && command === "rollback") fail(`no version ${argument} at ${url}`);
  if (error.code === "PLATFORM_NOT_FOUND" && command === "delete-tenant") fail(`no tenant "${argument}" at ${url}`);
  fail(explainPlatformError(error, url).join("\n"));
}

/** Prints what a write did, waiting (bounded) for the edge copy when it lags; exits 1 if it never catches up. */
async function reportWrite(result: WriteResult): Promise<void> {
  let published = result.published;
  if (!published && result.version !== result.previousVersion) {
    console.log(`brim: version ${result.version} stored; waiting up to ${PUBLISH_WAIT_MS / 1000} s for the edge copy…`);
    published = await client.waitForPublished(result.version, PUBLISH_WAIT_MS);
  }
  console.log(`brim: ${describeWrite(result, published)}`);
  const missing = missingSecretLines(result.missingSecrets);
  if (missing.length > 0) {
    console.warn(["brim: warning: the Worker lacks secrets the config names:", ...missing.map((line) => `  ${line}`)].join("\n"));
  }
  if (!published && result.version !== result.previousVersion) {
    fail(
      `version ${result.version} is stored but the edge copy did not have it within ${PUBLISH_WAIT_MS / 1000} s; ` +
        `the edge serves version ${result.publishedVersion} until it does (npm run config -- show)`,
    );
  }
}

function describeState(state: ConfigState): string {
  if (state.version === 0) return `brim: no config yet at ${url} (version 0); push one with: npm run config -- push FILE`;
  const edge = state.publishedVersion >= state.version ? "published to the edge" : `the edge still has version ${state.publishedVersion}`;
  const width = Math.max(...state.tenants.map((tenant) => tenant.id.length));
  const lines = [
    `brim: version ${state.version} active at ${url} (${edge}), updated ${state.updatedAt ?? "?"}`,
    `tenants (${state.tenants.length}):`,
    ...state.tenants.map(
      (tenant) =>
        `  ${tenant.id.padEnd(width)}  ${plural(tenant.hosts.length, "host")}, since version ${tenant.version}: ${tenant.hosts.join(" ")}`,
    ),
  ];
  const missing = missingSecretLines(state.missingSecrets);
  lines.push(missing.length === 0 ? "missing secrets: none" : "missing secrets (set them on the Worker):", ...missing.map((l) => `  ${l}`));
  return lines.join("\n");
}

async function printVersions(): Promise<void> {
  const [versions, state] = await Promise.all([client.versions(), client.getConfig()]);
  if (values.json) {
    console.log(JSON.stringify(versions, null, 2));
    return;
  }
  if (versions.length === 0) console.log(`brim: no versions yet at ${url}`);
  const width = Math.max(0, ...versions.map((entry) => entry.action.length));
  for (const entry of versions) {
    // `*` marks the active version.
    const active = entry.version === state.version ? "*" : " ";
    const tenants = entry.tenants.length > 0 ? entry.tenants.join(", ") : "-";
    console.log(`${active} ${String(entry.version).padStart(4)}  ${entry.createdAt}  ${entry.action.padEnd(width)}  changed: ${tenants}`);
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
