/**
 * `npm start` end to end, in Node: the real scripts/start.ts, wrangler dev, workerd and the
 * demo origin, reached over HTTP on 127.0.0.1 like a user's curl would. The demo's config is
 * pushed to the Worker's config store before `npm start` says it is ready.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, get, isListening, npmStart, ROOT, type Run, stop, untilReady, within } from "./support";

const BAD_CONFIG_TIMEOUT_MS = 20_000;
const DEMO_ENV = parseEnv(readFileSync(join(ROOT, "fixtures/demo.env"), "utf8"));

describe("npm start with an invalid tenants file", () => {
  it("lists every problem with its path and exits before listening", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "brim-e2e-")), "tenants.json");
    const route = { path: "/*", cache: { ttl: -5 } };
    const tenant = { id: "bad", hosts: ["bad.test"], origin: "http://127.0.0.1:1", routes: [route], colour: "red" };
    writeFileSync(file, JSON.stringify({ tenants: [tenant] }));
    const port = await freePort();

    const run = npmStart(["--config", file, "--port", String(port)]);
    const code = await within(run.exited, BAD_CONFIG_TIMEOUT_MS, () => JSON.stringify(run.output));

    expect(code).not.toBe(0);
    expect(run.output.stderr).toContain(`brim: ${file}: invalid config`);
    expect(run.output.stderr).toMatch(/^\s*tenants\[0\]\.routes\[0\]\.cache\.ttl: .*-5/m);
    expect(run.output.stderr).toMatch(/^\s*tenants\[0\]\.colour: /m);
    expect(run.output.stdout).not.toContain("starting wrangler");
    expect(await isListening(port)).toBe(false);
  });
});

describe("npm start demo stack", () => {
  let port = 0;
  let run: Run;

  beforeAll(async () => {
    port = await freePort();
    const originPort = await freePort();
    run = npmStart(["--port", String(port), "--origin-port", String(originPort)]);
    await untilReady(run);
  });

  afterAll(() => stop(run));

  it("seeds the config store and prints the active version and the demo's platform token", () => {
    expect(run.output.stdout).toContain("brim: config pushed: version 1 active (was 0); changed: acme, globex; published to the edge");
    expect(run.output.stdout).toContain(`brim: ready on http://127.0.0.1:${port} (config version 1)`);
    expect(run.output.stdout).toContain(`export BRIM_PLATFORM_TOKEN=${DEMO_ENV.BRIM_PLATFORM_TOKEN}`);
    // fixtures/demo.env sets every secret the demo tenants name.
    expect(run.output.stderr).not.toContain("brim: warning");
  });

  it("forwards a miss to the origin, then serves the same URL from cache", async () => {
    const host = `127.0.0.1:${port}`;
    const first = await get(port, "/api/catalog/1", host);
    expect(first.status).toBe(200);
    expect(first.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(first.body)).toMatchObject({ id: 1, brand: "acme" });
    expect(first.headers["cache-status"]).toMatch(/^Brim;/);
    expect(first.headers["cache-status"]).toContain("fwd=");

    // The store completes in waitUntil, after the first response; allow it a moment.
    let again = await get(port, "/api/catalog/1", host);
    for (let tries = 0; tries < 10 && !String(again.headers["cache-status"]).includes("hit"); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      again = await get(port, "/api/catalog/1", host);
    }
    expect(again.status).toBe(200);
    expect(again.headers["cache-status"]).toContain("hit");
    expect(again.body).toBe(first.body);
  });

  it("answers 421 for a host no tenant claims", async () => {
    const reply = await get(port, "/api/catalog/1", `unknown.example:${port}`);
    expect(reply.status).toBe(421);
  });

  it("serves another tenant's own content for its host", async () => {
    const reply = await get(port, "/api/catalog/1", `globex.localhost:${port}`);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ id: 1, brand: "globex" });
    expect(reply.headers["cache-status"]).toMatch(/^Brim;/);
  });

  it("gives each demo tenant the admin token from fixtures/demo.env, as the printed curl lines use", async () => {
    const host = `127.0.0.1:${port}`;
    const stats = await get(port, "/__brim/stats", host, { authorization: `Bearer ${DEMO_ENV.DEMO_ACME_ADMIN_TOKEN}` });
    expect(stats.status).toBe(200);
    expect(JSON.parse(stats.body)).toMatchObject({ tenant: "acme" });
    expect(run.output.stdout).toContain(`Authorization: Bearer ${DEMO_ENV.DEMO_ACME_ADMIN_TOKEN}`);
    // Globex's token is not acme's.
    expect((await get(port, "/__brim/stats", host, { authorization: `Bearer ${DEMO_ENV.DEMO_GLOBEX_ADMIN_TOKEN}` })).status).toBe(401);
  });
});
