/**
 * The platform API and the config store behind it (#13), in workerd with the real ConfigStore
 * object and the real KV namespace: versions, rollback, validation, host conflicts, the token,
 * missing secrets. Each test has its own config space (object name and KV prefix).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN_ENV } from "../support/brim";
import { script, uniquePath } from "../support/origin";
import { storeBrim, tenantDoc, PLATFORM_TOKEN } from "../support/store";

interface Written {
  ok: true;
  version: number;
  previousVersion: number;
  changed: string[];
  removed: string[];
  published: boolean;
  publishedVersion: number;
  missingSecrets: { tenant: string; secret: string; field: string }[];
  rolledBackTo?: number;
}

interface Snapshot {
  version: number;
  publishedVersion: number;
  document: { tenants: { id: string; routes: unknown[] }[] };
  tenants: { id: string; hosts: string[]; version: number; missingSecrets: string[] }[];
  missingSecrets: { tenant: string; secret: string; field: string }[];
  edge: { version: number | null };
}

const uid = () => crypto.randomUUID().slice(0, 8);

/** Two tenants whose origin paths say which version served them. */
function documentV(version: number, a: string, b: string) {
  return {
    tenants: [
      tenantDoc({ id: a, routes: [{ path: `/v${version}/*`, cache: false }] }),
      tenantDoc({ id: b, routes: [{ path: "/*", cache: false }] }),
    ],
  };
}

async function written(res: Response): Promise<Written> {
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return res.json();
}

describe("platform API: versions", () => {
  it("numbers every accepted change, keeps the previous ones for rollback, and an identical push is a no-op", async () => {
    const brim = storeBrim();
    const [a, b] = [`a-${uid()}`, `b-${uid()}`];
    const v1 = await written(await brim.platform("PUT", "/config", documentV(1, a, b)));
    expect(v1).toMatchObject({
      ok: true,
      version: 1,
      previousVersion: 0,
      changed: [a, b],
      removed: [],
      published: true,
      publishedVersion: 1,
    });
    const same = await written(await brim.platform("PUT", "/config", documentV(1, a, b)));
    expect(same).toMatchObject({ version: 1, previousVersion: 1, changed: [] });

    const v2 = await written(await brim.platform("PUT", "/config", documentV(2, a, b)));
    // Only the tenant whose document changed is a new revision.
    expect(v2).toMatchObject({ version: 2, previousVersion: 1, changed: [a], removed: [] });

    const path = uniquePath();
    await script(`/v1${path}`, [{ body: "v1 route" }]);
    await script(`/v2${path}`, [{ body: "v2 route" }]);
    expect((await brim.fetch(`/v2${path}`, { host: `${a}.test` })).status).toBe(200);
    expect((await brim.fetch(`/v1${path}`, { host: `${a}.test` })).status).toBe(404);

    const back = await written(await brim.platform("POST", "/config/rollback", { version: 1 }));
    expect(back).toMatchObject({ version: 3, previousVersion: 2, changed: [a], rolledBackTo: 1 });
    const served = await brim.fetch(`/v1${path}`, { host: `${a}.test` });
    expect(served.status).toBe(200);
    expect(await served.text()).toBe("v1 route");
    expect((await brim.fetch(`/v2${path}`, { host: `${a}.test` })).status).toBe(404);

    const snapshot: Snapshot = await (await brim.platform("GET", "/config")).json();
    expect(snapshot.version).toBe(3);
    expect(snapshot.publishedVersion).toBe(3);
    expect(snapshot.document).toEqual(documentV(1, a, b));
    expect(snapshot.tenants.map((t) => [t.id, t.hosts, t.version])).toEqual([
      [a, [`${a}.test`], 3],
      [b, [`${b}.test`], 1],
    ]);
    expect(snapshot.edge.version).toBe(3);

    const { versions } = (await (await brim.platform("GET", "/config/versions")).json()) as {
      versions: { version: number; action: string }[];
    };
    expect(versions.map((v) => [v.version, v.action])).toEqual([
      [3, "rollback to 1"],
      [2, "replace"],
      [1, "replace"],
    ]);
  });

  it("refuses a rollback to a version that does not exist, changing nothing", async () => {
    const brim = storeBrim();
    const [a, b] = [`a-${uid()}`, `b-${uid()}`];
    await written(await brim.platform("PUT", "/config", documentV(1, a, b)));
    const res = await brim.platform("POST", "/config/rollback", { version: 7 });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ ok: false, error: "PLATFORM_NOT_FOUND", problem: "no version 7" });
    const bad = await brim.platform("POST", "/config/rollback", { version: "1" });
    expect(bad.status).toBe(400);
    expect(((await (await brim.platform("GET", "/config")).json()) as Snapshot).version).toBe(1);
  });

  it("puts and deletes one tenant without a new revision of the others; the last tenant cannot be deleted", async () => {
    const brim = storeBrim();
    const [a, b, c] = [`a-${uid()}`, `b-${uid()}`, `c-${uid()}`];
    await written(await brim.platform("PUT", "/config", documentV(1, a, b)));
    const put = await written(await brim.platform("PUT", `/tenants/${c}`, tenantDoc({ id: c, routes: [{ path: "/*", cache: false }] })));
    expect(put).toMatchObject({ version: 2, changed: [c], removed: [] });
    const path = uniquePath();
    await script(path, [{ body: "c served" }]);
    expect(await (await brim.fetch(path, { host: `${c}.test` })).text()).toBe("c served");

    const deleted = await written(await brim.platform("DELETE", `/tenants/${a}`));
    expect(deleted).toMatchObject({ version: 3, changed: [], removed: [a] });
    expect((await brim.fetch(path, { host: `${a}.test` })).status).toBe(421);
    const snapshot: Snapshot = await (await brim.platform("GET", "/config")).json();
    expect(snapshot.tenants.map((t) => [t.id, t.version])).toEqual([
      [b, 1],
      [c, 2],
    ]);

    expect((await brim.platform("DELETE", `/tenants/nobody-${uid()}`)).status).toBe(404);
    await written(await brim.platform("DELETE", `/tenants/${b}`));
    const last = await brim.platform("DELETE", `/tenants/${c}`);
    expect(last.status).toBe(400);
    expect(((await last.json()) as { problems: string[] }).problems[0]).toMatch(/^tenants: expected at least one tenant/);
  });
});

describe("platform API: validation", () => {
  it("refuses an invalid document with the same path: reason lines as npm start, and the active version keeps serving", async () => {
    const brim = storeBrim();
    const [a, b] = [`a-${uid()}`, `b-${uid()}`];
    await written(await brim.platform("PUT", "/config", documentV(1, a, b)));
    const path = uniquePath();
    await script(`/v1${path}`, [{ body: "still v1" }]);

    const broken = documentV(2, a, b);
    ((broken.tenants[0] as { routes: Record<string, unknown>[] }).routes[0] as Record<string, unknown>).cache = { ttl: -5 };
    const res = await brim.platform("PUT", "/config", broken);
    expect(res.status).toBe(400);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { ok: boolean; error: string; problems: string[] };
    expect(body.ok).toBe(false);
    expect(body.error).toBe("CONFIG_INVALID");
    expect(body.problems).toEqual([expect.stringMatching(/^tenants\[0\]\.routes\[0\]\.cache\.ttl: /)]);

    const notJson = await brim.platform("PUT", "/config", "{ tenants: ");
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { problems: string[] }).problems[0]).toMatch(/^\(root\): invalid JSON/);

    expect(((await (await brim.platform("GET", "/config")).json()) as Snapshot).version).toBe(1);
    expect(await (await brim.fetch(`/v1${path}`, { host: `${a}.test` })).text()).toBe("still v1");
  });

  it("refuses a host another tenant claims, in a document and in a one-tenant push", async () => {
    const brim = storeBrim();
    const [a, b] = [`a-${uid()}`, `b-${uid()}`];
    const clash = {
      tenants: [
        tenantDoc({ id: a, routes: [{ path: "/*" }] }),
        tenantDoc({ id: b, hosts: [`${b}.test`, `${a}.test`], routes: [{ path: "/*" }] }),
      ],
    };
    const res = await brim.platform("PUT", "/config", clash);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { problems: string[] }).problems).toEqual([
      `tenants[1].hosts[1]: host "${a}.test" is already claimed by tenant "${a}", so tenant "${b}" cannot claim it`,
    ]);

    await written(await brim.platform("PUT", "/config", documentV(1, a, b)));
    const steal = await brim.platform(
      "PUT",
      `/tenants/${b}`,
      tenantDoc({ id: b, hosts: [`${b}.test`, `${a}.TEST`], routes: [{ path: "/*" }] }),
    );
    expect(steal.status).toBe(400);
    expect(((await steal.json()) as { problems: string[] }).problems).toEqual([
      `hosts[1]: host "${a}.test" is already claimed by tenant "${a}"`,
    ]);
    const wrongId = await brim.platform("PUT", `/tenants/${b}`, tenantDoc({ id: a, routes: [{ path: "/*" }] }));
    expect(wrongId.status).toBe(400);
    expect(((await wrongId.json()) as { problems: string[] }).problems[0]).toMatch(/^id: expected "b-/);
    expect(((await (await brim.platform("GET", "/config")).json()) as Snapshot).version).toBe(1);
  });

  it("owns host names on every port: another tenant cannot claim the same name with a port", async () => {
    const brim = storeBrim();
    const [a, b] = [`a-${uid()}`, `b-${uid()}`];
    const doc = {
      tenants: [
        tenantDoc({ id: a, routes: [{ path: "/*" }] }),
        tenantDoc({ id: b, hosts: [`${b}.test`, `${a}.test:8443`], routes: [{ path: "/*" }] }),
      ],
    };
    const res = await brim.platform("PUT", "/config", doc);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { problems: string[] }).problems).toEqual([
      `tenants[1].hosts[1]: host "${a}.test:8443": "${a}.test" (on any port) is already claimed by tenant "${a}", so tenant "${b}" cannot claim it`,
    ]);
    await written(await brim.platform("PUT", "/config", documentV(1, a, b)));
    const steal = await brim.platform(
      "PUT",
      `/tenants/${b}`,
      tenantDoc({ id: b, hosts: [`${b}.test`, `${a}.test:443`], routes: [{ path: "/*" }] }),
    );
    expect(steal.status).toBe(400);
    expect(((await steal.json()) as { problems: string[] }).problems).toEqual([
      `hosts[1]: host "${a}.test:443": "${a}.test" (on any port) is already claimed by tenant "${a}"`,
    ]);
    // The owner may add ports of its own name.
    const own = await brim.platform(
      "PUT",
      `/tenants/${a}`,
      tenantDoc({ id: a, hosts: [`${a}.test`, `${a}.test:8443`], routes: [{ path: "/v1/*" }] }),
    );
    expect(own.status).toBe(200);
  });

  it("refuses a tenant that names one of Brim's own secrets", async () => {
    const brim = storeBrim();
    const a = `a-${uid()}`;
    const res = await brim.platform(
      "PUT",
      `/tenants/${a}`,
      tenantDoc({ id: a, admin: { tokenEnv: "BRIM_PLATFORM_TOKEN" }, routes: [{ path: "/*" }] }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { problems: string[] }).problems).toEqual([
      `admin.tokenEnv: "BRIM_PLATFORM_TOKEN" is reserved for Brim's own secrets (names starting with "BRIM_")`,
    ]);
  });

  it("a document that only reorders keys is no change, and GET config/status answers without the document", async () => {
    const brim = storeBrim();
    const a = `a-${uid()}`;
    await written(await brim.platform("PUT", "/config", { tenants: [tenantDoc({ id: a, routes: [{ path: "/*", cache: { ttl: 5 } }] })] }));
    const plain = tenantDoc({ id: a, routes: [] });
    const reordered = { tenants: [{ origin: plain.origin, routes: [{ cache: { ttl: 5 }, path: "/*" }], hosts: plain.hosts, id: a }] };
    expect(await written(await brim.platform("PUT", "/config", reordered))).toMatchObject({ version: 1, changed: [] });
    const status = (await (await brim.platform("GET", "/config/status")).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ ok: true, version: 1, publishedVersion: 1 });
    expect(status.document).toBeUndefined();
  });

  it("moves a host between tenants in one version", async () => {
    const brim = storeBrim();
    const [a, b] = [`a-${uid()}`, `b-${uid()}`];
    const shared = `shared-${uid()}.test`;
    const doc = (owner: string) => ({
      tenants: [a, b].map((id) =>
        tenantDoc({ id, hosts: id === owner ? [`${id}.test`, shared] : [`${id}.test`], routes: [{ path: `/${id}/*`, cache: false }] }),
      ),
    });
    await written(await brim.platform("PUT", "/config", doc(a)));
    const path = uniquePath();
    await script(`/${b}${path}`, [{ body: "b owns it" }]);
    expect((await brim.fetch(`/${b}${path}`, { host: shared })).status).toBe(404);
    await written(await brim.platform("PUT", "/config", doc(b)));
    expect(await (await brim.fetch(`/${b}${path}`, { host: shared })).text()).toBe("b owns it");
  });
});

describe("platform API: access", () => {
  it.each([
    ["no token", null],
    ["a wrong token", "not-the-platform-token"],
    ["a tenant's admin token", "test-admin-token-1"],
  ])("answers 401 with a Bearer challenge to %s, on any host, and changes nothing", async (_, token) => {
    const brim = storeBrim();
    const [a, b] = [`a-${uid()}`, `b-${uid()}`];
    for (const [method, path, body] of [
      ["GET", "/config", undefined],
      ["PUT", "/config", documentV(1, a, b)],
      ["PUT", `/tenants/${a}`, tenantDoc({ id: a, routes: [{ path: "/*" }] })],
      ["DELETE", `/tenants/${a}`, undefined],
      ["POST", "/config/rollback", { version: 1 }],
    ] as const) {
      const res = await brim.platform(method, path, body, token);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="brim platform"');
      expect(await res.json()).toEqual({ ok: false, error: "PLATFORM_UNAUTHORIZED" });
    }
    const snapshot: Snapshot = await (await brim.platform("GET", "/config")).json();
    expect(snapshot.version).toBe(0);
  });

  it("answers 503 (not 401) when the Worker has no BRIM_PLATFORM_TOKEN, and logs why", async () => {
    const brim = storeBrim();
    const ctx = createExecutionContext();
    const request = new Request("http://any.test/__brim/platform/config", { headers: { authorization: `Bearer ${PLATFORM_TOKEN}` } });
    const res = await brim.app.fetch(request, { ...env, BRIM_PLATFORM_TOKEN: undefined }, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false, error: "PLATFORM_NOT_CONFIGURED" });
    expect(brim.logs).toContainEqual({ event: "platform-not-configured", detail: "Worker secret BRIM_PLATFORM_TOKEN is not set" });
  });

  it("is never proxied or cached, whatever host, and unknown platform paths are 404", async () => {
    const brim = storeBrim();
    const [a, b] = [`a-${uid()}`, `b-${uid()}`];
    await written(await brim.platform("PUT", "/config", documentV(1, a, b)));
    const res = await brim.fetch("/__brim/platform/config", { host: `${b}.test`, token: PLATFORM_TOKEN });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("cache-status")).toBeNull();
    expect((await brim.platform("GET", "/nope")).status).toBe(404);
    expect((await brim.platform("POST", "/config")).status).toBe(405);
  });
});

describe("secrets a tenant names", () => {
  it("reports a missing one in the push answer and GET config, and the tenant's admin endpoints answer 503 with the reason logged", async () => {
    const brim = storeBrim();
    const [a, b] = [`a-${uid()}`, `b-${uid()}`];
    const missing = "NOT_SET_ADMIN_TOKEN";
    const doc = {
      tenants: [
        tenantDoc({ id: a, admin: { tokenEnv: missing }, routes: [{ path: "/*" }] }),
        tenantDoc({ id: b, admin: { tokenEnv: ADMIN_TOKEN_ENV }, routes: [{ path: "/*" }] }),
      ],
    };
    const push = await written(await brim.platform("PUT", "/config", doc));
    expect(push.missingSecrets).toEqual([{ tenant: a, secret: missing, field: "admin.tokenEnv" }]);
    const snapshot: Snapshot = await (await brim.platform("GET", "/config")).json();
    expect(snapshot.missingSecrets).toEqual([{ tenant: a, secret: missing, field: "admin.tokenEnv" }]);
    expect(snapshot.tenants.map((t) => t.missingSecrets)).toEqual([[missing], []]);

    const admin = await brim.fetch("/__brim/stats", { host: `${a}.test`, token: "anything" });
    expect(admin.status).toBe(503);
    expect(brim.logs).toContainEqual({ event: "admin-not-configured", tenant: a, detail: `Worker secret ${missing} is not set` });
    // The tenant whose secret is set answers as before: a wrong token is the caller's fault.
    expect((await brim.fetch("/__brim/purge", { host: `${b}.test`, token: "wrong", method: "POST" })).status).toBe(401);
  });
});
