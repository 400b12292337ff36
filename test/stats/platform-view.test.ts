/**
 * The platform view (`GET /__brim/all`, `/__brim/all/stats`): every tenant of the config, most
 * requests first, added up; the platform token or nothing (a tenant token does not open it).
 */
import { describe, expect, it } from "vitest";
import type { PlatformReport } from "../../src/stats/overview";
import { testBrim } from "../support/brim";
import { ADMIN_TOKEN, ADMIN_TOKEN_ENV } from "../support/jwt";
import { script, uniquePath } from "../support/origin";
import { PLATFORM_TOKEN } from "../support/store";

describe("GET /__brim/all", () => {
  it("lists each tenant's totals and the platform's, for the platform token only", async () => {
    const [a, b] = [`p-${crypto.randomUUID().slice(0, 12)}`, `p-${crypto.randomUUID().slice(0, 12)}`];
    const brim = testBrim(
      [a, b].map((id) => ({ id, admin: { tokenEnv: ADMIN_TOKEN_ENV }, routes: [{ path: "/*", cache: {} }] })),
      { stats: true },
    );
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=600" }, body: "x" }]);
    // a: 1 miss + 2 hits; b: 1 miss.
    for (let i = 0; i < 3; i++) await brim.fetch(path, { host: `${a}.test` });
    await brim.fetch(path, { host: `${b}.test` });

    expect((await brim.fetch("/__brim/all/stats", { host: `${a}.test` })).status).toBe(401);
    expect((await brim.fetch("/__brim/all/stats", { host: `${a}.test`, token: ADMIN_TOKEN })).status).toBe(401);
    // Any host will do for the platform token, one no tenant claims included.
    const res = await brim.fetch("/__brim/all/stats", { host: "nobody.test", token: PLATFORM_TOKEN });
    expect(res.status).toBe(200);
    const view = await res.json<PlatformReport>();
    expect(view).toMatchObject({ tenantsKnown: 2, tenantsRead: 2, bound: 100 });
    expect(view.tenants.map((t) => [t.tenant, t.requests, t.hitRatio])).toEqual([
      [a, 3, 2 / 3],
      [b, 1, 0],
    ]);
    expect(view.total).toMatchObject({ requests: 4, hits: 2, hitRatio: 0.5, originFetches: 2 });
    expect(view.total.statusClasses).toMatchObject({ "2xx": 4 });
    expect(view.total.cacheOutcomes).toMatchObject({ hit: 2, "uri-miss": 2 });

    const page = await (await brim.fetch("/__brim/all", { host: "nobody.test", token: PLATFORM_TOKEN })).text();
    expect(page).toContain('<b id="total-requests">4 requests</b> over 2 tenants');
    expect(page).toContain(`<tr><td>${a}</td><td>3</td><td>66.7%</td><td>1</td>`);
    expect(page).not.toContain('id="bound"');
  });
});
