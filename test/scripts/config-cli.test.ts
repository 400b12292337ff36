/**
 * `npm run config` against a stand-in platform API (test/scripts/fake-platform.ts): what it
 * sends, and what it prints for answers the real Worker gives only in rare states (a push
 * still being published, no token secret, something else on the port). The real Worker is
 * exercised end to end in test/e2e/config.test.ts.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { configState, type FakePlatform, fakePlatform, written } from "./fake-platform";
import { runScript } from "./run-script";

const TOKEN = "config-cli-test-token";
const dir = mkdtempSync(join(tmpdir(), "brim-config-cli-"));
const tenant = { id: "acme", hosts: ["acme.test"], origin: "http://127.0.0.1:1", routes: [{ path: "/*" }] };

function file(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
}

function config(args: string[], env: Record<string, string> = { BRIM_PLATFORM_TOKEN: TOKEN }) {
  const base = { ...process.env };
  delete base.BRIM_PLATFORM_TOKEN;
  return runScript("scripts/config.ts", args, { ...base, ...env });
}

let platform: FakePlatform | undefined;
afterEach(async () => {
  await platform?.close();
  platform = undefined;
});

describe("npm run config -- validate", () => {
  it("accepts a valid file without touching the network, and lists every problem of a bad one", async () => {
    const good = file("good.json", { $schema: "x", tenants: [tenant] });
    expect(await config(["validate", good], {})).toMatchObject({ status: 0, stdout: `brim: ${good}: valid (1 tenant, 1 route)\n` });

    const bad = file("bad.json", { tenants: [{ ...tenant, hosts: ["http://acme.test"], routes: [{ path: "/*", cache: { ttl: -1 } }] }] });
    const refused = await config(["validate", bad], {});
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`brim: ${bad}: invalid config`);
    expect(refused.stderr).toMatch(/^ {2}tenants\[0\]\.hosts\[0\]: expected a host, not a URL/m);
    expect(refused.stderr).toMatch(/^ {2}tenants\[0\]\.routes\[0\]\.cache\.ttl: /m);
  });
});

describe("npm run config -- push / push-tenant", () => {
  it("sends the file with the bearer token, then waits until the edge has the new version", async () => {
    platform = await fakePlatform((request, index) =>
      index === 0 ? written(5, { changed: ["acme"], published: false, publishedVersion: 4 }) : configState(5, index === 1 ? 4 : 5),
    );
    const pushed = await config([
      "push",
      file("push.json", { $schema: "./schema/tenants.schema.json", tenants: [tenant] }),
      "--url",
      platform.url,
    ]);

    expect(pushed.stdout).toContain("version 5 stored; waiting up to");
    expect(pushed.stdout).toContain("brim: version 5 active (was 4); changed: acme; published to the edge");
    expect(pushed.status).toBe(0);
    const [put, ...polls] = platform.requests;
    expect(put).toMatchObject({ method: "PUT", path: "/__brim/platform/config", authorization: `Bearer ${TOKEN}` });
    // Compact, without the editor-only $schema.
    expect(put?.body).toBe(JSON.stringify({ tenants: [tenant] }));
    // Polled through the status answer, which leaves the (possibly megabytes of) document out.
    expect(polls.map((poll) => `${poll.method} ${poll.path}`)).toEqual([
      "GET /__brim/platform/config/status",
      "GET /__brim/platform/config/status",
    ]);
  });

  it("says when nothing changed, and warns about secrets the Worker lacks", async () => {
    const missingSecrets = [{ tenant: "acme", secret: "ACME_ADMIN_TOKEN", field: "admin.tokenEnv" }];
    platform = await fakePlatform(() => written(3, { previousVersion: 3, missingSecrets }));
    const pushed = await config(["push", file("same.json", { tenants: [tenant] }), "--url", platform.url]);
    expect(pushed.stdout).toContain("brim: no change; version 3 stays active");
    expect(pushed.stderr).toMatch(/the Worker lacks secrets the config names:\n {2}tenant acme: ACME_ADMIN_TOKEN \(admin\.tokenEnv\)/);
    expect(pushed.status).toBe(0);
  });

  it("push-tenant validates the tenant with paths relative to it, and sends nothing when invalid", async () => {
    platform = await fakePlatform(() => written(2, { changed: ["a b"] }));
    const bad = await config(["push-tenant", file("bad-tenant.json", { ...tenant, hosts: [], colour: "red" }), "--url", platform.url]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/invalid tenant\n/);
    expect(bad.stderr).toMatch(/^ {2}hosts: /m);
    expect(bad.stderr).toMatch(/^ {2}colour: /m);
    expect(bad.stderr).not.toContain("tenants[0]");
    expect(platform.requests).toEqual([]);

    const good = await config(["push-tenant", file("tenant.json", { ...tenant, id: "a-b" }), "--url", platform.url]);
    expect(good.status).toBe(0);
    expect(platform.requests[0]).toMatchObject({ method: "PUT", path: "/__brim/platform/tenants/a-b" });
    expect(JSON.parse(platform.requests[0]?.body ?? "")).toMatchObject({ id: "a-b" });
  });

  it("prints the Worker's problem lines when it refuses the config (400)", async () => {
    const problems = ["hosts[0]: acme.test is already a host of tenant other"];
    platform = await fakePlatform(() => ({ status: 400, json: { ok: false, error: "CONFIG_INVALID", problems } }));
    const refused = await config(["push-tenant", file("clash.json", tenant), "--url", platform.url]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(`brim: the Worker refused the config (400):\n  ${problems[0]}\n`);
  });
});

describe("npm run config: failures say what to do", () => {
  it("no token in the environment: exit 1 before any request", async () => {
    platform = await fakePlatform(() => configState(1, 1));
    const ran = await config(["show", "--url", platform.url], {});
    expect(ran.status).toBe(1);
    expect(ran.stderr).toMatch(/^brim: BRIM_PLATFORM_TOKEN is not set/);
    expect(platform.requests).toEqual([]);
  });

  it("503: the Worker has no platform token secret", async () => {
    platform = await fakePlatform(() => ({ status: 503, json: { ok: false, error: "PLATFORM_NOT_CONFIGURED" } }));
    const ran = await config(["versions", "--url", platform.url]);
    expect(ran.status).toBe(1);
    expect(ran.stderr).toContain(`brim: ${platform.url} has no BRIM_PLATFORM_TOKEN secret, so its platform API is off (503)`);
    expect(ran.stderr).toContain("npx wrangler secret put BRIM_PLATFORM_TOKEN");
  });

  it("another refusal of the API is shown as it came (a body over the limit: 413)", async () => {
    const json = { ok: false, error: "ADMIN_BODY_TOO_LARGE", problem: "body exceeds 25165824 bytes" };
    platform = await fakePlatform(() => ({ status: 413, json }));
    const ran = await config(["push", file("big.json", { tenants: [tenant] }), "--url", platform.url]);
    expect(ran.status).toBe(1);
    expect(ran.stderr).toContain(`brim: PUT ${platform.url}/__brim/platform/config: 413 ADMIN_BODY_TOO_LARGE: body exceeds 25165824 bytes`);
  });

  it("nothing listening, or something that is not the platform API", async () => {
    platform = await fakePlatform(() => ({ status: 404, json: "not this" }));
    const closed = platform.url;
    const other = await config(["show", "--url", platform.url]);
    expect(other.status).toBe(1);
    expect(other.stderr).toContain("is that a Brim Worker with the platform API?");
    await platform.close();
    platform = undefined;

    const nothing = await config(["show", "--url", closed]);
    expect(nothing.status).toBe(1);
    expect(nothing.stderr).toMatch(/no answer \(.*ECONNREFUSED/);
    expect(nothing.stderr).toContain("is Brim running there?");
  });
});
