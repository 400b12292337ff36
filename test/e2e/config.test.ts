/**
 * The config store end to end, in Node: `npm start -- --config FILE --port N --env-file FILE`
 * (real wrangler dev and workerd, a tiny origin on 127.0.0.1), then `npm run config` pushing,
 * showing and rolling back versions through the platform API, each checked over HTTP the way
 * a client would see it. One wrangler dev for the whole file; the cases build on each other.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, get, npmRun, npmStart, type Reply, type Run, stop, untilReady } from "./support";

/** A pushed version is served at once by the isolate that took the write, and by others within the store's propagation bound (docs/control-plane.md); generous for a busy CI box. */
const PROPAGATION_WAIT_MS = 20_000;
const POLL_INTERVAL_MS = 200;
const SHOP_ADMIN_TOKEN = "shop-admin-token-for-this-test";

describe("npm run config against npm start", () => {
  const dir = mkdtempSync(join(tmpdir(), "brim-config-e2e-"));
  let origin: Server;
  let run: Run;
  let port = 0;
  let url = "";
  let token = "";
  const file = (name: string, value: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value, null, 2));
    return path;
  };
  let v1 = "";
  let v2 = "";

  /** `npm run config -- <args> --url <this run>` with this run's platform token (or `token` given). */
  const config = (args: string[], withToken: string | null = token) => {
    const env = { ...process.env };
    delete env.BRIM_PLATFORM_TOKEN;
    if (withToken !== null) env.BRIM_PLATFORM_TOKEN = withToken;
    return npmRun("config", [...args, "--url", url], env);
  };
  /** Polls `host` + `path` until its status is `status`, or returns the last reply after the bound. */
  const eventually = async (host: string, path: string, status: number): Promise<Reply> => {
    const deadline = Date.now() + PROPAGATION_WAIT_MS;
    let reply = await get(port, path, host);
    while (reply.status !== status && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      reply = await get(port, path, host);
    }
    return reply;
  };

  beforeAll(async () => {
    // The origin echoes the path it was asked for; nothing is cacheable, so every answer shows the live config.
    origin = createServer((req, res) => {
      res.writeHead(200, { "content-type": "text/plain", "cache-control": "no-store" }).end(`origin ${req.url}`);
    });
    await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", () => resolve()));
    const base = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    const tenant = (id: string, admin?: string) => ({
      id,
      hosts: [`${id}.test`],
      origin: `${base}/${id}`,
      ...(admin ? { admin: { tokenEnv: admin } } : {}),
      routes: [{ path: "/*", cache: {} }],
    });
    v1 = file("v1.json", { tenants: [tenant("shop", "SHOP_ADMIN_TOKEN"), tenant("legacy", "LEGACY_ADMIN_TOKEN")] });
    v2 = file("v2.json", { tenants: [tenant("shop", "SHOP_ADMIN_TOKEN"), tenant("blog", "BLOG_ADMIN_TOKEN")] });
    // Sets the shop's admin token only; no BRIM_PLATFORM_TOKEN, so npm start makes one for the run.
    const envFile = file("secrets.env", `SHOP_ADMIN_TOKEN=${SHOP_ADMIN_TOKEN}\n`);

    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const env = { ...process.env };
    delete env.BRIM_PLATFORM_TOKEN;
    run = npmStart(["--config", v1, "--port", String(port), "--env-file", envFile], env);
    await untilReady(run);
    token = /export BRIM_PLATFORM_TOKEN=(\S+)/.exec(run.output.stdout)?.[1] ?? "";
  });

  afterAll(async () => {
    await stop(run);
    if (origin) await new Promise((resolve) => origin.close(resolve));
  });

  it("npm start pushed the file as version 1, with the secrets of --env-file, and warned about the one it lacks", async () => {
    expect(run.output.stdout).toContain("version 1 active (was 0); changed: shop, legacy; published to the edge");
    expect(run.output.stdout).toContain(`brim: ready on ${url} (config version 1)`);
    expect(run.output.stdout).toMatch(/platform token \(made for this run/);
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    // Before starting: the env file lacks it. After the push: the Worker says so too.
    expect(run.output.stderr).toMatch(
      /warning: tenant legacy names the secret LEGACY_ADMIN_TOKEN \(admin\.tokenEnv\), which .*secrets\.env does not set/,
    );
    expect(run.output.stderr).toMatch(/the Worker reports secrets it lacks:\n\s+tenant legacy: LEGACY_ADMIN_TOKEN \(admin\.tokenEnv\)/);
    expect(run.output.stderr).not.toContain("SHOP_ADMIN_TOKEN");

    const page = await get(port, "/page", "shop.test");
    expect(page).toMatchObject({ status: 200, body: "origin /shop/page" });
    const stats = await get(port, "/__brim/stats", "shop.test", { authorization: `Bearer ${SHOP_ADMIN_TOKEN}` });
    expect(stats.status).toBe(200);
    expect((await get(port, "/post", "blog.test")).status).toBe(421);
  });

  it("the platform API refuses a missing or wrong token with 401, and the CLI says which", async () => {
    const bare = await get(port, "/__brim/platform/config", "anything.example");
    expect(bare.status).toBe(401);
    expect(bare.headers["www-authenticate"]).toBe('Bearer realm="brim platform"');
    expect(bare.headers["cache-control"]).toBe("no-store");
    expect(JSON.parse(bare.body)).toEqual({ ok: false, error: "PLATFORM_UNAUTHORIZED" });

    const unset = await config(["show"], null);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain("brim: BRIM_PLATFORM_TOKEN is not set");
    const wrong = await config(["show"], `${token}x`);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`brim: ${url} refused the platform token (401)`);
  });

  it("push makes the new file version 2, which serves: the new tenant answers, the removed one is gone", async () => {
    const pushed = await config(["push", v2]);
    expect(pushed.stderr).toContain("tenant blog: BLOG_ADMIN_TOKEN (admin.tokenEnv)");
    expect(pushed.stdout).toContain("brim: version 2 active (was 1); changed: blog; removed: legacy; published to the edge");
    expect(pushed.code).toBe(0);

    expect(await eventually("blog.test", "/post", 200)).toMatchObject({ status: 200, body: "origin /blog/post" });
    expect((await eventually("legacy.test", "/", 421)).status).toBe(421);
    expect((await get(port, "/page", "shop.test")).body).toBe("origin /shop/page");
  });

  it("show reports version 2, its tenants and the secret the Worker lacks; --json the document", async () => {
    const shown = await config(["show"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`brim: version 2 active at ${url} (published to the edge)`);
    expect(shown.stdout).toMatch(/^\s+shop\s+1 host, since version 1: shop\.test$/m);
    expect(shown.stdout).toMatch(/^\s+blog\s+1 host, since version 2: blog\.test$/m);
    expect(shown.stdout).toMatch(/missing secrets.*\n\s+tenant blog: BLOG_ADMIN_TOKEN \(admin\.tokenEnv\)/);

    const json = await config(["show", "--json"]);
    const document = JSON.parse(json.stdout) as { tenants: { id: string }[] };
    expect(document.tenants.map((tenant) => tenant.id)).toEqual(["shop", "blog"]);
  });

  it("refuses an invalid file with its problem lines before sending it; version 2 keeps serving", async () => {
    const bad = file("bad.json", {
      tenants: [{ id: "shop", hosts: ["shop.test"], origin: "http://127.0.0.1:1", routes: [{ path: "/*", cache: { ttl: -5 } }] }],
    });
    const refused = await config(["push", bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`brim: ${bad}: invalid config`);
    expect(refused.stderr).toMatch(/^\s+tenants\[0\]\.routes\[0\]\.cache\.ttl: .*-5/m);

    // One the Worker refuses: a host another tenant already has (only the store knows its hosts).
    const intruder = file("intruder.json", {
      id: "intruder",
      hosts: ["shop.test"],
      origin: "http://127.0.0.1:1",
      routes: [{ path: "/*" }],
    });
    const clash = await config(["push-tenant", intruder]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain("the Worker refused the config (400):");
    expect(clash.stderr).toMatch(/^\s+\S.*shop\.test/m);

    expect((await config(["show"])).stdout).toContain("brim: version 2 active");
    expect((await get(port, "/page", "shop.test")).body).toBe("origin /shop/page");
    expect((await get(port, "/post", "blog.test")).status).toBe(200);
  });

  it("rollback 1 brings version 1's behaviour back as version 3", async () => {
    const rolled = await config(["rollback", "1"]);
    expect(rolled.code).toBe(0);
    expect(rolled.stdout).toMatch(/brim: version 3 active \(was 2\); changed: legacy; removed: blog; published to the edge/);

    expect((await eventually("blog.test", "/post", 421)).status).toBe(421);
    expect(await eventually("legacy.test", "/x", 200)).toMatchObject({ status: 200, body: "origin /legacy/x" });

    const versions = await config(["versions"]);
    expect(versions.code).toBe(0);
    expect(versions.stdout).toMatch(/^\*\s+3\s/m);
    expect(versions.stdout).toMatch(/^\s+2\s/m);
    expect(versions.stdout).toMatch(/^\s+1\s/m);
  });

  it("delete-tenant removes one tenant as a new version; an unknown id or version fails", async () => {
    const deleted = await config(["delete-tenant", "legacy"]);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain("brim: version 4 active (was 3); removed: legacy");
    expect((await eventually("legacy.test", "/x", 421)).status).toBe(421);

    const unknown = await config(["delete-tenant", "nope"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`brim: no tenant "nope" at ${url}`);
    const noVersion = await config(["rollback", "99"]);
    expect(noVersion.code).toBe(1);
    expect(noVersion.stderr).toContain(`brim: no version 99 at ${url}`);
  });
});
