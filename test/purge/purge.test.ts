/**
 * `POST /__brim/purge` through the real PurgeLog Durable Object and the real Cache API: each
 * selector (URL, prefix, tag, all), hard and soft, across two tenants, and the propagation
 * bound between isolates with the injected clock.
 */
import { describe, expect, it } from "vitest";
import { TestClock, testBrim } from "../support/brim";
import { PURGE_MAX_STALE_MS, PURGE_RELAY_POLL_MS } from "../../src/constants";
import { count, script, uniquePath, type ResponseSpec } from "../support/origin";
import { cacheStatus, expectHit, expectPurgedMiss, purge, uniqueTenant } from "./support";

const ROUTES = [{ path: "/*", cache: {} }];
const FRESH: ResponseSpec = { headers: { "cache-control": "max-age=600", "content-type": "text/plain" }, body: "v{count}" };

/** Two tenants, each with `paths` stored and confirmed as hits. */
async function twoTenants(paths: string[], spec: ResponseSpec = FRESH) {
  const a = uniqueTenant("a");
  const b = uniqueTenant("b");
  const brim = testBrim({ [a]: ROUTES, [b]: ROUTES }, { purge: true });
  for (const path of paths) {
    await script(path, [spec]);
    for (const tenant of [a, b]) {
      const first = await cacheStatus(brim, path, `${tenant}.test`);
      expect(first.status).toMatch(/stored$/);
      await expectHit(brim, path, `${tenant}.test`);
    }
  }
  return { brim, a: `${a}.test`, b: `${b}.test` };
}

// Each test fills and reads back a dozen entries across two tenants: an explicit budget for a busy machine.
describe("hard purge by selector", { timeout: 30_000 }, () => {
  it("urls: the URL is a miss (every query order, both variants), others stay, the other tenant is untouched", async () => {
    const base = uniquePath();
    const [x, y] = [`${base}/x`, `${base}/y`];
    const { brim, a, b } = await twoTenants([`${x}?p=1&q=2`, y]);
    // A gzip variant of the same URL, stored under its own Vary key.
    const res = await purge(brim, a, { urls: [`${x}?q=2&p=1`] });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, soft: false, urls: [`${x}?p=1&q=2`] });
    await expectPurgedMiss(brim, `${x}?p=1&q=2`, a);
    await expectHit(brim, `${x}?p=1&q=2`, a);
    await expectHit(brim, y, a);
    await expectHit(brim, `${x}?p=1&q=2`, b, "v2");
    await expectHit(brim, y, b);
  });

  it("urls: every Vary variant goes together", async () => {
    const path = uniquePath();
    const { brim, a } = await twoTenants([], FRESH);
    await script(path, [{ ...FRESH, headers: { ...FRESH.headers, vary: "accept-language" }, body: "{header:accept-language} {count}" }]);
    for (const lang of ["en", "fr"]) {
      await brim.fetch(path, { host: a, headers: { "accept-language": lang } });
      const hit = await brim.fetch(path, { host: a, headers: { "accept-language": lang } });
      expect(hit.headers.get("cache-status")).toMatch(/^Brim; hit/);
    }
    expect((await purge(brim, a, { urls: [`http://${a}${path}`] })).status).toBe(200);
    for (const lang of ["en", "fr"]) {
      const res = await brim.fetch(path, { host: a, headers: { "accept-language": lang } });
      expect(res.headers.get("cache-status"), lang).toMatch(/detail=purged$/);
    }
    expect(await count(path)).toBe(4);
  });

  it("prefixes: everything under the prefix, nothing else, nothing of the other tenant", async () => {
    const base = uniquePath();
    const { brim, a, b } = await twoTenants([`${base}/api/1`, `${base}/api/2?x=1`, `${base}/static/1`]);
    expect((await purge(brim, a, { prefixes: [`${base}/api/`] })).status).toBe(200);
    await expectPurgedMiss(brim, `${base}/api/1`, a);
    await expectPurgedMiss(brim, `${base}/api/2?x=1`, a);
    await expectHit(brim, `${base}/static/1`, a);
    await expectHit(brim, `${base}/api/1`, b);
    await expectHit(brim, `${base}/api/2?x=1`, b);
  });

  it("tags: from Cache-Tag and Surrogate-Key, only entries carrying the tag", async () => {
    const base = uniquePath();
    const tagged = (header: string, value: string): ResponseSpec => ({ ...FRESH, headers: { ...FRESH.headers, [header]: value } });
    const a1 = uniqueTenant("a");
    const b1 = uniqueTenant("b");
    const brim = testBrim({ [a1]: ROUTES, [b1]: ROUTES }, { purge: true });
    const specs: [string, ResponseSpec][] = [
      [`${base}/one`, tagged("cache-tag", "product-1,catalog")],
      [`${base}/two`, tagged("surrogate-key", "product-2 catalog")],
      [`${base}/three`, tagged("cache-tag", "product-3")],
    ];
    for (const [path, spec] of specs) {
      await script(path, [spec]);
      for (const tenant of [a1, b1]) {
        await brim.fetch(path, { host: `${tenant}.test` });
        await expectHit(brim, path, `${tenant}.test`);
      }
    }
    expect((await purge(brim, `${a1}.test`, { tags: ["catalog"] })).status).toBe(200);
    await expectPurgedMiss(brim, `${base}/one`, `${a1}.test`);
    await expectPurgedMiss(brim, `${base}/two`, `${a1}.test`);
    await expectHit(brim, `${base}/three`, `${a1}.test`);
    for (const [path] of specs) await expectHit(brim, path, `${b1}.test`);
    // The refetched entries carry the tag again and answer to the next purge.
    expect((await purge(brim, `${a1}.test`, { tags: ["product-2"] })).status).toBe(200);
    await expectPurgedMiss(brim, `${base}/two`, `${a1}.test`);
    await expectHit(brim, `${base}/one`, `${a1}.test`);
  });

  it("all: every entry of the tenant, none of the other's", async () => {
    const base = uniquePath();
    const { brim, a, b } = await twoTenants([`${base}/1`, `${base}/2`]);
    expect((await purge(brim, a, { all: true })).status).toBe(200);
    await expectPurgedMiss(brim, `${base}/1`, a);
    await expectPurgedMiss(brim, `${base}/2`, a);
    await expectHit(brim, `${base}/1`, b);
    await expectHit(brim, `${base}/2`, b);
  });
});

describe("soft purge", () => {
  it("the next request gets the stale copy and one revalidation (a 304 keeps the body)", async () => {
    const path = uniquePath();
    const { brim, a, b } = await twoTenants([]);
    await script(path, [
      { headers: { "cache-control": "max-age=600", etag: '"e1"', "content-type": "text/plain" }, body: "body-1" },
      { headers: { "cache-control": "max-age=600", etag: '"e1"', "content-type": "text/plain" }, body: "body-1" },
      { status: 304, headers: { "cache-control": "max-age=600", etag: '"e1"' } },
    ]);
    for (const host of [a, b]) {
      await brim.fetch(path, { host });
      await expectHit(brim, path, host, "body-1");
    }
    expect(await count(path)).toBe(2);
    const res = await purge(brim, a, { urls: [path], soft: true });
    expect(await res.json()).toMatchObject({ ok: true, soft: true });
    const stale = await cacheStatus(brim, path, a);
    expect(stale.status).toMatch(/^Brim; hit; ttl=-\d+; detail=stale-while-revalidate$/);
    expect(stale.body).toBe("body-1");
    // One revalidation, conditional, answered 304; then fresh hits again.
    expect(await count(path)).toBe(3);
    const { requests: seen } = await (await import("../support/origin")).requests(path);
    expect(seen[2]?.headers["if-none-match"]).toBe('"e1"');
    await expectHit(brim, path, a, "body-1");
    await expectHit(brim, path, a, "body-1");
    expect(await count(path)).toBe(3);
    await expectHit(brim, path, b, "body-1");
  });

  it("must-revalidate entries are validated before they are served", async () => {
    const path = uniquePath();
    const { brim, a } = await twoTenants([]);
    await script(path, [
      { headers: { "cache-control": "max-age=600, must-revalidate", etag: '"e1"', "content-type": "text/plain" }, body: "body-1" },
      { status: 304, headers: { "cache-control": "max-age=600, must-revalidate", etag: '"e1"' } },
    ]);
    await brim.fetch(path, { host: a });
    await expectHit(brim, path, a);
    await purge(brim, a, { prefixes: ["/"], soft: true });
    const res = await cacheStatus(brim, path, a);
    expect(res.status).toMatch(/^Brim; fwd=stale; fwd-status=304/);
    expect(res.body).toBe("body-1");
    await expectHit(brim, path, a);
  });

  it("a hard purge after a soft one still removes", async () => {
    const path = uniquePath();
    const { brim, a } = await twoTenants([path]);
    await purge(brim, a, { urls: [path], soft: true });
    await purge(brim, a, { urls: [path] });
    await expectPurgedMiss(brim, path, a);
  });
});

// Behaviour changed with the relay (#14): other isolates read the marks from their data center's
// relay copy (Cache API) on a poll, not from the object, and the bound moved from 2 s to
// PURGE_MAX_STALE_MS. The relay itself (lease, back-off, two data centers) is test/purge/relay.test.ts.
describe(`propagation: every isolate within PURGE_MAX_STALE_MS (${PURGE_MAX_STALE_MS} ms)`, () => {
  it("another isolate of the data center serves the old entry until its next relay poll, never after", async () => {
    const tenant = uniqueTenant();
    const host = `${tenant}.test`;
    const clock = new TestClock();
    const isolateA = testBrim({ [tenant]: ROUTES }, { purge: true, clock });
    const isolateB = testBrim({ [tenant]: ROUTES }, { purge: true, clock });
    const path = uniquePath();
    await script(path, [FRESH]);
    await isolateB.fetch(path, { host });
    await expectHit(isolateB, path, host, "v1");

    expect((await purge(isolateA, host, { urls: [path] })).status).toBe(200);
    // B looked at the relay just before the purge: inside its poll interval it still has the old marks.
    clock.advance((PURGE_RELAY_POLL_MS - 1) / 1000);
    await expectHit(isolateB, path, host, "v1");
    // At the poll the relay read starts in the background: this request still used the old marks…
    clock.advance(1 / 1000);
    await expectHit(isolateB, path, host, "v1");
    // …and the next one has the new marks (A wrote them to the relay with its purge).
    expect(await expectPurgedMiss(isolateB, path, host)).toBe("v2");
  });

  it("an idle isolate waits for a read once its marks are older than the bound", async () => {
    const tenant = uniqueTenant();
    const host = `${tenant}.test`;
    const clock = new TestClock();
    const isolateA = testBrim({ [tenant]: ROUTES }, { purge: true, clock });
    const isolateB = testBrim({ [tenant]: ROUTES }, { purge: true, clock });
    const path = uniquePath();
    await script(path, [FRESH]);
    await isolateB.fetch(path, { host });
    await expectHit(isolateB, path, host, "v1");
    await purge(isolateA, host, { urls: [path] });
    clock.advance(PURGE_MAX_STALE_MS / 1000);
    // The very first request at the bound sees the purge.
    await expectPurgedMiss(isolateB, path, host);
  });

  it("purges survive the isolate: a new isolate starts with every mark", async () => {
    const path = uniquePath();
    const { brim, a } = await twoTenants([path]);
    await purge(brim, a, { urls: [path] });
    const fresh = testBrim({ [a.replace(/\.test$/, "")]: ROUTES }, { purge: true });
    const res = await cacheStatus(fresh, path, a);
    expect(res.status).toMatch(/detail=purged$/);
  });
});
