/**
 * GET /__brim/health (#16): the anonymous answer for load balancers (any Host, no tenant data)
 * and the platform token's report (config versions and freshness, store answer, JWKS and
 * revocation state per loaded tenant), in workerd with the real ConfigStore, KV and objects.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TestClock } from "../support/brim";
import { authBlock, goodClaims, jwksServer, revocationServer, sign, signingKey } from "../support/jwt";
import { uniquePath } from "../support/origin";
import { PLATFORM_TOKEN, storeBrim, tenantDoc, type StoreBrim } from "../support/store";

const uid = () => crypto.randomUUID().slice(0, 8);

interface Report {
  ok: true;
  now: number;
  config: {
    version: number | null;
    activeVersion: number | null;
    checkedAt: number | null;
    freshnessMs: number | null;
    lastFailure: { at: number; detail: string } | null;
    hosts: number;
  };
  store: { version: number; publishedVersion: number } | { error: string } | null;
  missingSecrets: { tenant: string; secret: string; field: string }[] | null;
  tenants: {
    tenant: string;
    jwks: { state: string; ageMs: number | null; keys: number; lastError: { detail: string } | null } | null;
    revocation: { version: string | null; ageMs: number | null; stale: boolean; entries: { jti: number; sub: number } } | null;
  }[];
}

function health(brim: StoreBrim, host: string, init: { token?: string; method?: string; headers?: HeadersInit } = {}) {
  return brim.fetch("/__brim/health", { host, ...init });
}

async function reportOf(brim: StoreBrim): Promise<Report> {
  const res = await health(brim, "any.host.test", { token: PLATFORM_TOKEN });
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return res.json();
}

/** The real CONFIG_KV whose reads throw while `fail` is on (a KV outage cannot be produced locally). */
function failingKv() {
  let failing = false;
  const kv = new Proxy(env.CONFIG_KV, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (prop === "get") {
        return (...args: unknown[]) => {
          if (failing) return Promise.reject(new Error("injected KV failure"));
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv, fail: (on: boolean) => (failing = on) };
}

describe("GET /__brim/health without credentials", () => {
  it("answers 200 {ok:true}, no-store, the same bytes on a tenant's Host, an unknown Host and before any config exists", async () => {
    const brim = storeBrim();
    // Nothing published yet: tenant requests are 503, health is still 200 (it reads nothing).
    const before = await health(brim, "nobody.test");
    expect(before.status).toBe(200);
    expect(await before.text()).toBe('{"ok":true}\n');

    const id = `t-${uid()}`;
    expect((await brim.platform("PUT", "/config", { tenants: [tenantDoc({ id, routes: [{ path: "/*", cache: false }] })] })).status).toBe(
      200,
    );
    const bodies = new Set<string>();
    for (const host of [`${id}.test`, `unknown-${uid()}.test`, "127.0.0.1", `${id}.test:8080`]) {
      const res = await health(brim, host);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("content-type")).toBe("application/json");
      bodies.add(await res.text());
    }
    expect([...bodies]).toEqual(['{"ok":true}\n']);
    expect([...bodies][0]).not.toContain(id);
    // The trailing-slash form (the app is not strict) is the same endpoint.
    expect(await (await health(brim, "x.test", { headers: {} })).text()).toBe('{"ok":true}\n');
    expect(await (await brim.fetch("/__brim/health/", { host: "x.test" })).text()).toBe('{"ok":true}\n');
  });

  it("HEAD answers 200 with no body; other methods 405 naming GET, HEAD; sub-paths 404", async () => {
    const brim = storeBrim();
    const head = await health(brim, "lb.test", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("cache-control")).toBe("no-store");
    expect(await head.text()).toBe("");
    const post = await health(brim, "lb.test", { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect((await brim.fetch("/__brim/health/tenants", { host: "lb.test" })).status).toBe(404);
  });

  it("a wrong token, or another scheme, is 401 with the platform challenge, never the anonymous answer", async () => {
    const brim = storeBrim();
    for (const authorization of ["Bearer wrong", `Bearer ${PLATFORM_TOKEN}x`, `Basic ${btoa(`x:${PLATFORM_TOKEN}`)}`, "Bearer"]) {
      const res = await health(brim, "lb.test", { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="brim platform"');
      expect(await res.json()).toEqual({ ok: false, error: "PLATFORM_UNAUTHORIZED" });
    }
  });

  it("with BRIM_PLATFORM_TOKEN unset, every caller (token or not) gets the anonymous answer", async () => {
    const brim = storeBrim();
    const withoutToken = { ...env, BRIM_PLATFORM_TOKEN: undefined } as unknown as Env;
    for (const authorization of [null, `Bearer ${PLATFORM_TOKEN}`, "Bearer wrong"]) {
      const headers = new Headers({ host: "lb.test" });
      if (authorization) headers.set("authorization", authorization);
      const ctx = createExecutionContext();
      const res = await brim.app.fetch(new Request("http://lb.test/__brim/health", { headers }), withoutToken, ctx);
      await waitOnExecutionContext(ctx);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('{"ok":true}\n');
    }
  });
});

describe("GET /__brim/health with the platform token", () => {
  it("reports the version this isolate serves and the store's, both following pushes", async () => {
    const clock = new TestClock();
    const brim = storeBrim({ clock });
    const id = `t-${uid()}`;
    const doc = (n: number) => ({ tenants: [tenantDoc({ id, routes: [{ path: `/v${n}/*`, cache: false }] })] });
    expect((await brim.platform("PUT", "/config", doc(1))).status).toBe(200);
    expect((await brim.platform("PUT", "/config", doc(2))).status).toBe(200);
    await brim.fetch(`/v2${uniquePath()}`, { host: `${id}.test` });
    clock.advance(3);
    const report = await reportOf(brim);
    expect(report.config).toMatchObject({ version: 2, activeVersion: 2, lastFailure: null });
    expect(report.config.checkedAt).not.toBeNull();
    expect(report.config.freshnessMs).toBe(report.now - report.config.checkedAt!);
    expect(report.config.freshnessMs).toBeGreaterThanOrEqual(3_000);
    expect(report.store).toMatchObject({ version: 2, publishedVersion: 2 });
    expect(report.missingSecrets).toEqual([]);
    expect(report.tenants).toEqual([]);
  });

  it("lists missing secrets as GET /__brim/platform/config does", async () => {
    const brim = storeBrim();
    const id = `t-${uid()}`;
    const tenant = tenantDoc({ id, admin: { tokenEnv: "NO_SUCH_SECRET_16" }, routes: [{ path: "/*", cache: false }] });
    expect((await brim.platform("PUT", "/config", { tenants: [tenant] })).status).toBe(200);
    const config = (await (await brim.platform("GET", "/config")).json()) as { missingSecrets: unknown[] };
    const report = await reportOf(brim);
    expect(report.missingSecrets).toEqual([{ tenant: id, secret: "NO_SUCH_SECRET_16", field: "admin.tokenEnv" }]);
    expect(report.missingSecrets).toEqual(config.missingSecrets);
  });

  it("a failing KV read shows as a growing freshness and the last failure, and clears once a read succeeds", async () => {
    const clock = new TestClock();
    const faults = failingKv();
    const brim = storeBrim({ clock, kv: faults.kv });
    const id = `t-${uid()}`;
    expect((await brim.platform("PUT", "/config", { tenants: [tenantDoc({ id, routes: [{ path: "/*", cache: false }] })] })).status).toBe(
      200,
    );
    await brim.fetch(uniquePath(), { host: `${id}.test` });
    const checkedAt = (await reportOf(brim)).config.checkedAt!;

    faults.fail(true);
    // Past the poll interval a request starts a background version check, which fails.
    clock.advance(20);
    await brim.fetch(uniquePath(), { host: `${id}.test` });
    const failing = await reportOf(brim);
    expect(failing.config.checkedAt).toBe(checkedAt);
    expect(failing.config.freshnessMs).toBe(clock.now() - checkedAt);
    expect(failing.config.freshnessMs).toBeGreaterThanOrEqual(20_000);
    expect(failing.config.lastFailure?.detail).toContain("injected KV failure");
    expect(failing.config.version).toBe(1);

    faults.fail(false);
    clock.advance(20);
    await brim.fetch(uniquePath(), { host: `${id}.test` });
    const healed = await reportOf(brim);
    expect(healed.config.lastFailure).toBeNull();
    expect(healed.config.freshnessMs).toBe(0);
  });

  it("reports JWKS and revocation state of the tenants this isolate has served, and a failing JWKS", async () => {
    const clock = new TestClock();
    const brim = storeBrim({ clock });
    const key = await signingKey("ES256");
    const jwks = await jwksServer([key]);
    const list = await revocationServer({ jti: ["gone-1", "gone-2"] });
    const [withAuth, plain] = [`a-${uid()}`, `p-${uid()}`];
    const auth = authBlock(
      { jwksUrl: jwks.url },
      { jwksMaxAgeSeconds: 600, revocation: { url: list.url, refreshSeconds: 30, maxStaleSeconds: 300, onStale: "deny" } },
    );
    const tenants = [
      tenantDoc({ id: withAuth, auth, routes: [{ path: "/*", auth: "required", cache: false }] }),
      tenantDoc({ id: plain, routes: [{ path: "/*", cache: false }] }),
    ];
    expect((await brim.platform("PUT", "/config", { tenants })).status).toBe(200);
    expect((await reportOf(brim)).tenants).toEqual([]);

    const path = uniquePath();
    expect((await brim.fetch(path, { host: `${withAuth}.test`, token: await sign(key, goodClaims(clock.now())) })).status).toBe(200);
    await brim.fetch(path, { host: `${plain}.test` });
    clock.advance(5);
    const report = await reportOf(brim);
    expect(report.tenants.map((t) => t.tenant)).toEqual([withAuth]);
    const [entry] = report.tenants;
    expect(entry?.jwks).toMatchObject({ state: "fresh", ageMs: 5_000, keys: 1, lastError: null });
    expect(entry?.revocation).toMatchObject({ stale: false, entries: { jti: 2, sub: 0 } });
    expect(entry?.revocation?.version).toEqual(expect.any(String));
    expect(entry?.revocation?.ageMs).toBeGreaterThanOrEqual(5_000);

    // Past its max age with the JWKS down: the refetch fails, the last good keys stay, the state says so.
    await jwks.down();
    clock.advance(600);
    await brim.fetch(path, { host: `${withAuth}.test`, token: await sign(key, goodClaims(clock.now())) });
    const failing = (await reportOf(brim)).tenants[0]?.jwks;
    expect(failing?.state).toBe("failing");
    expect(failing?.keys).toBe(1);
    expect(failing?.lastError?.detail).toEqual(expect.any(String));
  });
});
