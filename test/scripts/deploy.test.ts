/**
 * `npm run deploy` without Cloudflare: BRIM_WRANGLER points the script at a stand-in for
 * wrangler, because Cloudflare's API (`wrangler secret list`, `wrangler deploy`) cannot exist
 * in a local test. The stand-in logs its arguments and answers as its environment says; the
 * deployed Worker's platform API is test/scripts/fake-platform.ts. What is checked is the
 * script's part: validate, check secrets, deploy, push, in that order, each refusing clearly.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type FakePlatform, fakePlatform, written } from "./fake-platform";
import { runScript } from "./run-script";

const TOKEN = "deploy-test-platform-token";
const dir = mkdtempSync(join(tmpdir(), "brim-deploy-"));
const STAND_IN = join(dir, "wrangler");
writeFileSync(
  STAND_IN,
  `#!/bin/sh
# Stands in for wrangler: Cloudflare's API cannot be reached from a test.
echo "$*" >> "$STAND_IN_LOG"
if [ "$1 $2" = "secret list" ]; then
  if [ -n "$STAND_IN_NO_WORKER" ]; then echo 'X [ERROR] Worker "brim" not found.' >&2; exit 1; fi
  printf '%s\\n' "$STAND_IN_SECRETS"
  exit 0
fi
if [ "$1" = "deploy" ]; then echo "Uploaded brim (stand-in)"; exit "\${STAND_IN_DEPLOY_EXIT:-0}"; fi
exit 64
`,
);
chmodSync(STAND_IN, 0o755);

const tenants = {
  tenants: [
    {
      id: "acme",
      hosts: ["acme.example.com"],
      origin: "https://origin.acme.example.com",
      admin: { tokenEnv: "ACME_ADMIN_TOKEN" },
      auth: { issuer: "https://id.acme.example.com", audience: "acme", secretEnv: "ACME_JWT_SECRET", algorithms: ["HS256"] },
      routes: [{ path: "/*" }],
    },
  ],
};
const CONFIG = join(dir, "tenants.json");
writeFileSync(CONFIG, JSON.stringify(tenants));
const ALL_SECRETS = ["BRIM_PLATFORM_TOKEN", "ACME_ADMIN_TOKEN", "ACME_JWT_SECRET"];

let run = 0;
/** `npm run deploy -- <args>` with the stand-in; returns what it printed and the stand-in's log lines. */
async function deploy(args: string[], env: Record<string, string | undefined> = {}) {
  const log = join(dir, `wrangler-${++run}.log`);
  const base = { ...process.env };
  delete base.BRIM_PLATFORM_TOKEN;
  const secrets = JSON.stringify(ALL_SECRETS.map((name) => ({ name, type: "secret_text" })));
  const full: Record<string, string | undefined> = {
    ...base,
    BRIM_WRANGLER: STAND_IN,
    STAND_IN_LOG: log,
    STAND_IN_SECRETS: secrets,
    BRIM_PLATFORM_TOKEN: TOKEN,
    ...env,
  };
  for (const [name, value] of Object.entries(full)) if (value === undefined) delete full[name];
  const ran = await runScript("scripts/deploy.ts", args, full);
  const wrangler = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
  return { ...ran, wrangler };
}

let platform: FakePlatform | undefined;
afterEach(async () => {
  await platform?.close();
  platform = undefined;
});

describe("npm run deploy", () => {
  it("checks the secrets, deploys, then pushes the file as a new version", async () => {
    platform = await fakePlatform(() => written(8, { changed: ["acme"] }));
    const ran = await deploy(["--config", CONFIG, "--url", platform.url, "--", "--env", "production"]);

    expect(ran.stdout).toContain("brim: the Worker has the 3 secrets it needs");
    expect(ran.stdout).toContain("Uploaded brim (stand-in)");
    expect(ran.stdout).toContain("brim: deployed; config version 8 active (was 7); changed: acme; published to the edge");
    expect(ran.status).toBe(0);
    // The secret check looks at the Worker the deploy targets.
    expect(ran.wrangler).toEqual(["secret list --format json --env production", "deploy --env production"]);
    expect(platform.requests).toHaveLength(1);
    expect(platform.requests[0]).toMatchObject({ method: "PUT", path: "/__brim/platform/config", authorization: `Bearer ${TOKEN}` });
    expect(JSON.parse(platform.requests[0]?.body ?? "")).toEqual(tenants);
  });

  it("refuses to deploy while the Worker lacks a secret the config names, saying how to set each", async () => {
    const secrets = JSON.stringify([{ name: "ACME_ADMIN_TOKEN", type: "secret_text" }]);
    const ran = await deploy(["--config", CONFIG, "--url", "http://127.0.0.1:1"], { STAND_IN_SECRETS: secrets });
    expect(ran.status).toBe(1);
    expect(ran.stderr).toContain("brim: the Worker lacks secrets; set each, then deploy again:");
    expect(ran.stderr).toMatch(/npx wrangler secret put BRIM_PLATFORM_TOKEN\s+# the platform API token/);
    expect(ran.stderr).toMatch(/npx wrangler secret put ACME_JWT_SECRET\s+# tenant acme, auth\.secretEnv/);
    expect(ran.stderr).not.toContain("secret put ACME_ADMIN_TOKEN");
    expect(ran.wrangler).toEqual(["secret list --format json"]);
  });

  it("refuses when the secrets cannot be listed (a Worker that does not exist yet)", async () => {
    const ran = await deploy(["--config", CONFIG, "--url", "http://127.0.0.1:1"], { STAND_IN_NO_WORKER: "1" });
    expect(ran.status).toBe(1);
    expect(ran.stderr).toContain("brim: cannot list the Worker's secrets");
    expect(ran.stderr).toContain('Worker "brim" not found');
    expect(ran.stderr).toContain("npx wrangler secret put BRIM_PLATFORM_TOKEN creates it");
    expect(ran.wrangler).toEqual(["secret list --format json"]);
  });

  it("--dry-run skips the secret check and the push, and says so", async () => {
    const ran = await deploy(["--config", CONFIG, "--dry-run"], { BRIM_PLATFORM_TOKEN: undefined });
    expect(ran.stdout).toContain("brim: dry run: not checking the Worker's secrets (wrangler secret list), not uploading, not pushing");
    expect(ran.status).toBe(0);
    expect(ran.wrangler).toEqual(["deploy --dry-run"]);
  });

  it("runs nothing for an invalid file, a missing token or a missing --url", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ tenants: [] }));
    const invalid = await deploy(["--config", bad, "--url", "http://127.0.0.1:1"]);
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toContain(`brim: ${bad}: invalid config\n  tenants: expected at least one tenant`);

    const noToken = await deploy(["--config", CONFIG, "--url", "http://127.0.0.1:1"], { BRIM_PLATFORM_TOKEN: undefined });
    expect(noToken.status).toBe(1);
    expect(noToken.stderr).toMatch(/^brim: BRIM_PLATFORM_TOKEN is not set/);

    const noUrl = await deploy(["--config", CONFIG]);
    expect(noUrl.status).toBe(2);
    expect(noUrl.stderr).toMatch(/^brim: --url is needed/);

    expect([...invalid.wrangler, ...noToken.wrangler, ...noUrl.wrangler]).toEqual([]);
  });

  it("does not push after a failed deploy, and says how to retry a refused push", async () => {
    platform = await fakePlatform(() => ({ status: 401, json: { ok: false, error: "PLATFORM_UNAUTHORIZED" } }));
    const failed = await deploy(["--config", CONFIG, "--url", platform.url], { STAND_IN_DEPLOY_EXIT: "3" });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("brim: wrangler deploy failed (exit 3); the config was not pushed");
    expect(platform.requests).toEqual([]);

    const refused = await deploy(["--config", CONFIG, "--url", platform.url]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("brim: the Worker is deployed, but the config push failed:");
    expect(refused.stderr).toContain("refused the platform token (401)");
    expect(refused.stderr).toContain(`retry: npm run config -- push ${CONFIG} --url ${platform.url}`);
  });
});
