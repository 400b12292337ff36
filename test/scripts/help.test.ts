/**
 * Every script answers `--help` with its usage (exit 0) and an unknown option with the problem
 * and the usage (exit 2), never a stack trace. Runs the real scripts with the repo's Node 22 and
 * tsx; none of them gets as far as starting wrangler or writing a file.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The `node` devDependency: the system Node may be older than wrangler and tsx need. */
const NODE = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const SCRIPT_TIMEOUT_MS = 30_000;

/** Script file → the command its usage line names. */
const SCRIPTS = [
  ["scripts/start.ts", "npm start"],
  ["scripts/deploy.ts", "npm run deploy"],
  ["scripts/config.ts", "npm run config"],
  ["scripts/gen-schema.ts", "npm run schema"],
  ["scripts/gen-docs.ts", "npm run docs"],
  ["bench/run.ts", "npm run bench"],
  ["scripts/conformance.ts", "npm run conformance"],
] as const;

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Asynchronous, so the cases of `describe.concurrent` really overlap. */
function run(script: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      NODE,
      ["--import", "tsx", script, ...args],
      { cwd: ROOT, encoding: "utf8", timeout: SCRIPT_TIMEOUT_MS },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

describe.concurrent.each(SCRIPTS)("%s", (script, command) => {
  it("--help prints the usage and exits 0", async () => {
    const { status, stdout, stderr } = await run(script, ["--help"]);
    expect(stderr).toBe("");
    expect(stdout.split("\n")[0]).toMatch(new RegExp(`^Usage: ${command}\\b`));
    expect(status).toBe(0);
  });

  it("an unknown option is named, followed by the usage, exit 2", async () => {
    const { status, stdout, stderr } = await run(script, ["--no-such-option"]);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/Unknown option '--no-such-option'/);
    expect(stderr).toMatch(/^Usage: /m);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(status).toBe(2);
  });
});

describe.concurrent("options shared by the scripts", () => {
  it("-h is --help", async () => {
    const { status, stdout } = await run("scripts/start.ts", ["-h"]);
    expect(stdout).toMatch(/^Usage: npm start\b/);
    expect(status).toBe(0);
  });

  it("--help wins over another mistake on the same line", async () => {
    const { status, stdout } = await run("scripts/start.ts", ["--port", "nope", "--bogus", "--help"]);
    expect(stdout).toMatch(/^Usage: npm start\b/);
    expect(status).toBe(0);
  });

  it("config: a missing or unknown command, or a missing argument, is a usage error", async () => {
    const cases = [[], ["publish"], ["push"], ["rollback"], ["rollback", "two"], ["show", "extra"], ["push", "a.json", "--json"]];
    const results = await Promise.all(cases.map((args) => run("scripts/config.ts", args)));
    results.forEach(({ status, stdout, stderr }, i) => {
      const what = JSON.stringify(cases[i]);
      expect(stdout, what).toBe("");
      expect(stderr, what).toMatch(/^brim: .*\n\nUsage: npm run config\b/);
      expect(status, what).toBe(2);
    });
  });

  it("a stray argument is a usage error", async () => {
    const { status, stderr } = await run("scripts/gen-schema.ts", ["extra"]);
    expect(stderr).toMatch(/^schema: .*extra/);
    expect(status).toBe(2);
  });

  it("deploy leaves --help after a second -- to wrangler (it is not ours)", async () => {
    // Nothing to deploy: the missing tenants file stops it before wrangler runs.
    const args = ["--config", "no-such-tenants.json", "--url", "http://127.0.0.1:1", "--", "--help"];
    const { status, stdout, stderr } = await run("scripts/deploy.ts", args);
    expect(stdout).not.toMatch(/^Usage: /m);
    expect(stderr).toMatch(/no-such-tenants\.json: cannot read/);
    expect(status).toBe(1);
  });
});
