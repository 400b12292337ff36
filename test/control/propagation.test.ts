/**
 * How a pushed config reaches isolates (#13): each `storeBrim` stands for one isolate (its own
 * KvDirectory memory) over the shared, real ConfigStore object and KV namespace. Time is the
 * injected clock; the bound under test is CONFIG_MAX_STALE_MS (docs/control-plane.md). KV reads
 * are counted by wrapping the real binding (the wrapper forwards every call; where it injects
 * a failure, the test says so).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CONFIG_HOST_MAX_AGE_MS, CONFIG_MAX_STALE_MS, CONFIG_POLL_MS } from "../../src/constants";
import { activeKey, changesKey, hostKey } from "../../src/control/layout";
import { TestClock } from "../support/brim";
import { authBlock, goodClaims, jwksServer, sign, signingKey } from "../support/jwt";
import { count, script, uniquePath } from "../support/origin";
import { newSpace, storeBrim, tenantDoc } from "../support/store";

const uid = () => crypto.randomUUID().slice(0, 8);

/**
 * The real KV binding, counting `get` calls (a bulk read counts once, as KV counts it per call).
 * Two injected faults, for what cannot be produced locally: `fail` makes reads throw (a KV
 * outage); `serveOld` makes reads of one key return an older value (a data center's cached copy
 * from before a write, which KV's `cacheTtl` allows on Cloudflare).
 */
function countingKv() {
  let reads = 0;
  let failing = false;
  const old = new Map<string, unknown>();
  const real = env.CONFIG_KV;
  const kv = new Proxy(real, {
    get(target, prop) {
      if (prop === "get") {
        return async (key: string | string[], options?: unknown) => {
          reads++;
          if (failing) throw new Error("injected KV failure");
          const value = (await (target.get as (k: unknown, o: unknown) => Promise<unknown>)(key, options)) as unknown;
          if (!Array.isArray(key)) return old.has(key) ? old.get(key) : value;
          const values = value as Map<string, unknown>;
          for (const k of key) if (old.has(k)) values.set(k, old.get(k));
          return values;
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    kv,
    reads: () => reads,
    fail: (on: boolean) => (failing = on),
    serveOld: (key: string, value: unknown | undefined) => (value === undefined ? old.delete(key) : old.set(key, value)),
  };
}

/** An isolate of the deployment `space` whose directory reads through `kv`. */
function isolate(space: string, clock: TestClock, kv: KVNamespace = env.CONFIG_KV) {
  return storeBrim({ space, clock, kv });
}

describe("propagation of a pushed config", () => {
  it("serves v2 everywhere within the bound while requests flow; every response is wholly v1 or wholly v2", async () => {
    const space = newSpace();
    const clock = new TestClock();
    const [writer, other] = [isolate(space, clock), isolate(space, clock)];
    const id = `t-${uid()}`;
    const path = uniquePath();
    // v1: origin prefix /v1, not cached; v2: origin prefix /v2, cached. A half-applied tenant
    // would show one without the other.
    await script(`/v1${path}`, [{ body: "v1" }]);
    await script(`/v2${path}`, [{ body: "v2" }]);
    const doc = (v: 1 | 2) => ({
      tenants: [
        {
          ...tenantDoc({ id, hosts: [`${id}.test`, `www.${id}.test`], routes: [{ path: "/*", cache: v === 1 ? false : { ttl: 600 } }] }),
          origin: `${tenantDoc({ id, routes: [] }).origin}/v${v}`,
        },
      ],
    });
    expect((await writer.platform("PUT", "/config", doc(1))).status).toBe(200);

    const seen: string[] = [];
    const probe = async (brim: typeof writer, host: string) => {
      const res = await brim.fetch(path, { host });
      const body = await res.text();
      const status = res.headers.get("cache-status") ?? "";
      const whole = (body === "v1" && !/stored|hit/.test(status)) || (body === "v2" && /stored|hit/.test(status));
      expect(whole, `${host}: ${body} with Cache-Status ${status}`).toBe(true);
      seen.push(body);
      return body;
    };
    for (const brim of [writer, other]) for (const host of [`${id}.test`, `www.${id}.test`]) expect(await probe(brim, host)).toBe("v1");

    const push = await writer.platform("PUT", "/config", doc(2));
    expect(((await push.json()) as { version: number }).version).toBe(2);
    // Requests keep flowing while the clock walks up to the bound.
    for (let waited = 0; waited < CONFIG_MAX_STALE_MS; waited += 1_000) {
      for (const brim of [writer, other]) for (const host of [`${id}.test`, `www.${id}.test`]) await probe(brim, host);
      clock.advance(1);
    }
    // At the bound, every isolate and every host serves v2.
    for (const brim of [writer, other]) for (const host of [`${id}.test`, `www.${id}.test`]) expect(await probe(brim, host)).toBe("v2");
    expect(seen).toContain("v2");
  });

  it("a warm isolate resolves with no read; a cold one costs one read per host; the version check runs in the background", async () => {
    const space = newSpace();
    const clock = new TestClock();
    const counted = countingKv();
    const brim = isolate(space, clock, counted.kv);
    const ids = [`a-${uid()}`, `b-${uid()}`];
    await storeBrim({ space, clock }).platform("PUT", "/config", {
      tenants: ids.map((id) => tenantDoc({ id, routes: [{ path: "/*", cache: false }] })),
    });
    const path = uniquePath();
    await script(path, [{ body: "ok" }]);

    expect((await brim.fetch(path, { host: `${ids[0]}.test` })).status).toBe(200);
    expect(counted.reads()).toBe(1); // host record and active version in one bulk read
    expect((await brim.fetch(path, { host: `${ids[1]}.test` })).status).toBe(200);
    expect(counted.reads()).toBe(2);
    for (let i = 0; i < 5; i++) expect((await brim.fetch(path, { host: `${ids[i % 2]}.test` })).status).toBe(200);
    expect(counted.reads()).toBe(2);
    // An unknown host is remembered too: one read, then none.
    for (let i = 0; i < 3; i++) expect((await brim.fetch(path, { host: `nobody-${ids[0]}.test` })).status).toBe(421);
    expect(counted.reads()).toBe(3);

    clock.advance(CONFIG_POLL_MS / 1000);
    expect((await brim.fetch(path, { host: `${ids[0]}.test` })).status).toBe(200);
    expect(counted.reads()).toBe(4); // the active version, read in the background
    expect((await brim.fetch(path, { host: `${ids[0]}.test` })).status).toBe(200);
    expect(counted.reads()).toBe(4);
  });

  it("made-up Host headers evict only each other, never the tenants an isolate serves", async () => {
    const space = newSpace();
    const clock = new TestClock();
    const counted = countingKv();
    const brim = storeBrim({ space, clock, kv: counted.kv, maxHosts: 8, maxUnknownHosts: 2 });
    const ids = [`a-${uid()}`, `b-${uid()}`];
    await storeBrim({ space, clock }).platform("PUT", "/config", {
      tenants: ids.map((id) => tenantDoc({ id, routes: [{ path: "/*", cache: false }] })),
    });
    const path = uniquePath();
    await script(path, [{ body: "ok" }]);
    for (const id of ids) expect((await brim.fetch(path, { host: `${id}.test` })).status).toBe(200);
    for (let i = 0; i < 20; i++) expect((await brim.fetch(path, { host: `made-up-${i}.test` })).status).toBe(421);
    const before = counted.reads();
    for (const id of ids) expect((await brim.fetch(path, { host: `${id}.test` })).status).toBe(200);
    expect(counted.reads()).toBe(before);
    // The two most recent made-up hosts are remembered; older ones cost a read again.
    expect((await brim.fetch(path, { host: "made-up-19.test" })).status).toBe(421);
    expect(counted.reads()).toBe(before);
    expect((await brim.fetch(path, { host: "made-up-0.test" })).status).toBe(421);
    expect(counted.reads()).toBe(before + 1);
  });

  it("a failing store: a cold host is 503 CONFIG_UNAVAILABLE, warm hosts keep serving, and the check is retried by the poll, not per request", async () => {
    const space = newSpace();
    const clock = new TestClock();
    const counted = countingKv();
    const brim = isolate(space, clock, counted.kv);
    const ids = [`a-${uid()}`, `b-${uid()}`];
    await storeBrim({ space, clock }).platform("PUT", "/config", {
      tenants: ids.map((id) => tenantDoc({ id, routes: [{ path: "/*", cache: false }] })),
    });
    const path = uniquePath();
    await script(path, [{ body: "ok" }]);
    expect((await brim.fetch(path, { host: `${ids[0]}.test` })).status).toBe(200);

    counted.fail(true);
    const cold = await brim.fetch(path, { host: `${ids[1]}.test` });
    expect(cold.status).toBe(503);
    expect(await cold.text()).toMatch(/configuration could not be read/);
    clock.advance(CONFIG_MAX_STALE_MS / 1000);
    const readsBefore = counted.reads();
    for (let i = 0; i < 5; i++) expect((await brim.fetch(path, { host: `${ids[0]}.test` })).status).toBe(200);
    // One failed check (awaited: the copy was past the bound), then backed off until the next poll.
    expect(counted.reads() - readsBefore).toBe(1);
    expect(brim.logs.filter((e) => e.event === "config-check-failed")).toHaveLength(1);

    counted.fail(false);
    clock.advance(CONFIG_POLL_MS / 1000);
    expect((await brim.fetch(path, { host: `${ids[0]}.test` })).status).toBe(200);
    expect((await brim.fetch(path, { host: `${ids[1]}.test` })).status).toBe(200);
  });

  it("a data center's cached copy from before a change is served only until the next poll, then re-read", async () => {
    const space = newSpace();
    const clock = new TestClock();
    const counted = countingKv();
    const reader = isolate(space, clock, counted.kv);
    const writer = storeBrim({ space, clock });
    const id = `t-${uid()}`;
    const path = uniquePath();
    await script(`/v1${path}`, [{ body: "v1" }]);
    await script(`/v2${path}`, [{ body: "v2" }]);
    const tenant = (v: number) => tenantDoc({ id, routes: [{ path: `/v${v}/*`, cache: false }] });
    await writer.platform("PUT", "/config", { tenants: [tenant(1)] });
    expect(await (await reader.fetch(`/v1${path}`, { host: `${id}.test` })).text()).toBe("v1");

    const key = hostKey(space, `${id}.test`);
    counted.serveOld(key, await env.CONFIG_KV.get(key, "json"));
    await writer.platform("PUT", `/tenants/${id}`, tenant(2));
    clock.advance(CONFIG_MAX_STALE_MS / 1000);
    // The change list names the host, but this data center still has the v1 record: served, marked.
    expect((await reader.fetch(`/v2${path}`, { host: `${id}.test` })).status).toBe(404);
    counted.serveOld(key, undefined);
    clock.advance(CONFIG_POLL_MS / 1000);
    await reader.fetch(`/v1${path}`, { host: `${id}.test` }); // triggers the poll, which forgets the marked copy
    expect(await (await reader.fetch(`/v2${path}`, { host: `${id}.test` })).text()).toBe("v2");
  });
});

describe("bounds on what an isolate holds", () => {
  it("re-reads a host it holds once its copy is CONFIG_HOST_MAX_AGE_MS old, in the background, whatever the change lists said", async () => {
    const space = newSpace();
    const clock = new TestClock();
    const counted = countingKv();
    const reader = isolate(space, clock, counted.kv);
    const writer = storeBrim({ space, clock });
    const id = `t-${uid()}`;
    const path = uniquePath();
    await script(`/v1${path}`, [{ body: "v1" }]);
    await script(`/v2${path}`, [{ body: "v2" }]);
    const tenant = (v: number) => tenantDoc({ id, routes: [{ path: `/v${v}/*`, cache: false }] });
    await writer.platform("PUT", "/config", { tenants: [tenant(1)] });
    // This isolate's first read got a data center's copy from before v2, and the change list
    // for v2 was consumed while that copy was still served (injected: see countingKv).
    const key = hostKey(space, `${id}.test`);
    counted.serveOld(key, await env.CONFIG_KV.get(key, "json"));
    await writer.platform("PUT", `/tenants/${id}`, tenant(2));
    expect(await (await reader.fetch(`/v1${path}`, { host: `${id}.test` })).text()).toBe("v1");
    clock.advance(CONFIG_POLL_MS / 1000);
    expect(await (await reader.fetch(`/v1${path}`, { host: `${id}.test` })).text()).toBe("v1");
    counted.serveOld(key, undefined);
    clock.advance(CONFIG_POLL_MS / 1000);
    expect((await reader.fetch(`/v2${path}`, { host: `${id}.test` })).status).toBe(404);
    clock.advance(CONFIG_HOST_MAX_AGE_MS / 1000);
    await reader.fetch(`/v1${path}`, { host: `${id}.test` }); // served from memory; the re-read runs after it
    expect(await (await reader.fetch(`/v2${path}`, { host: `${id}.test` })).text()).toBe("v2");
  });

  it("does not move past a version whose change list it cannot read yet; retries at the next poll", async () => {
    const space = newSpace();
    const clock = new TestClock();
    const counted = countingKv();
    const reader = isolate(space, clock, counted.kv);
    const writer = storeBrim({ space, clock });
    const id = `t-${uid()}`;
    const path = uniquePath();
    await script(`/v2${path}`, [{ body: "v2" }]);
    const tenant = (v: number) => tenantDoc({ id, routes: [{ path: `/v${v}/*`, cache: false }] });
    await writer.platform("PUT", "/config", { tenants: [tenant(1)] });
    expect((await reader.fetch(`/v2${path}`, { host: `${id}.test` })).status).toBe(404);
    // The change list of v2 is not visible here yet (injected: KV orders nothing across keys).
    counted.serveOld(changesKey(space, 2), null);
    await writer.platform("PUT", `/tenants/${id}`, tenant(2));
    clock.advance(CONFIG_MAX_STALE_MS / 1000);
    expect((await reader.fetch(`/v2${path}`, { host: `${id}.test` })).status).toBe(404);
    expect(reader.directory.state().version).toBe(1);
    expect(reader.logs).toContainEqual({ event: "config-changes-missing", from: 1, to: 2 });
    counted.serveOld(changesKey(space, 2), undefined);
    clock.advance(CONFIG_POLL_MS / 1000);
    await reader.fetch(`/v2${path}`, { host: `${id}.test` }); // triggers the poll
    expect(await (await reader.fetch(`/v2${path}`, { host: `${id}.test` })).text()).toBe("v2");
    expect(reader.directory.state().version).toBe(2);
  });

  it("forgets everything when the store was recreated (its versions start again), and never reads for an over-long Host", async () => {
    const space = newSpace();
    const clock = new TestClock();
    const counted = countingKv();
    const reader = isolate(space, clock, counted.kv);
    const id = `t-${uid()}`;
    const path = uniquePath();
    await script(`/v1${path}`, [{ body: "v1" }]);
    await script(`/v9${path}`, [{ body: "v9" }]);
    await storeBrim({ space, clock }).platform("PUT", "/config", {
      tenants: [tenantDoc({ id, routes: [{ path: "/v1/*", cache: false }] })],
    });
    expect(await (await reader.fetch(`/v1${path}`, { host: `${id}.test` })).text()).toBe("v1");
    // Another store now publishes version 1 in the same space (injected: a recreated object).
    const hostRecord = { version: 1, tenant: tenantDoc({ id, routes: [{ path: "/v9/*", cache: false }] }) };
    counted.serveOld(hostKey(space, `${id}.test`), hostRecord);
    counted.serveOld(activeKey(space), { version: 1, store: "another-store", publishedAt: Date.now() });
    clock.advance(CONFIG_MAX_STALE_MS / 1000);
    expect(await (await reader.fetch(`/v9${path}`, { host: `${id}.test` })).text()).toBe("v9");

    const before = counted.reads();
    expect((await reader.fetch(path, { host: `${"x".repeat(300)}.test` })).status).toBe(421);
    expect(counted.reads()).toBe(before);
  });
});

describe("per-tenant changes", () => {
  it("a push of one tenant leaves the others' cache entries and auth state untouched", async () => {
    const space = newSpace();
    const clock = new TestClock();
    const brim = isolate(space, clock);
    const [a, b] = [`a-${uid()}`, `b-${uid()}`];
    const key = await signingKey("ES256");
    const jwks = await jwksServer([key]);
    const tenantB = tenantDoc({
      id: b,
      auth: authBlock({ jwksUrl: jwks.url }),
      routes: [{ path: "/*", auth: "required", cache: { ttl: 600 } }],
    });
    await brim.platform("PUT", "/config", { tenants: [tenantDoc({ id: a, routes: [{ path: "/*", cache: false }] }), tenantB] });
    const path = uniquePath();
    // RFC 9111 §3.5: a response to a request with Authorization is shared only when it says so.
    await script(path, [{ body: "origin #{count}", headers: { "cache-control": "public, max-age=600" } }]);
    const token = await sign(key, goodClaims(clock.now()));
    expect(await (await brim.fetch(path, { host: `${b}.test`, token })).text()).toBe("origin #1");
    expect(await (await brim.fetch(path, { host: `${b}.test`, token })).text()).toBe("origin #1");
    expect(await count(jwks.path)).toBe(1);

    // Tenant a changes (a new route), in another isolate; this one sees it at the bound.
    await storeBrim({ space, clock }).platform("PUT", `/tenants/${a}`, tenantDoc({ id: a, routes: [{ path: "/new/*", cache: false }] }));
    clock.advance(CONFIG_MAX_STALE_MS / 1000);
    expect((await brim.fetch(path, { host: `${a}.test` })).status).toBe(404);
    const hit = await brim.fetch(path, { host: `${b}.test`, token });
    expect(await hit.text()).toBe("origin #1");
    expect(hit.headers.get("cache-status")).toMatch(/hit/);
    expect(await count(jwks.path)).toBe(1);
    expect(await count(path)).toBe(1);
  });
});

describe("scale", () => {
  // The timeout is a budget for a busy CI machine (16 s alone here; publishing 20,000 KV records dominates), not a claim.
  it("10,000 tenants with 20,000 hosts load, publish and resolve to the right tenant", { timeout: 400_000 }, async () => {
    const space = newSpace();
    const clock = new TestClock();
    const writer = storeBrim({ space, clock });
    const prefix = `k${uid()}`;
    const tenants = Array.from({ length: 10_000 }, (_, i) =>
      tenantDoc({
        id: `${prefix}-${i}`,
        hosts: [`${prefix}-${i}.test`, `www.${prefix}-${i}.test`],
        routes: [{ path: `/t${i}/*`, cache: false }],
      }),
    );
    const push = await writer.platform("PUT", "/config", { tenants });
    expect(push.status).toBe(200);
    const { version } = (await push.json()) as { version: number };
    // Published over several alarm runs (KV writes per invocation are bounded): wait for it, polling the status answer
    // (the whole 10,000-tenant document from GET /config would slow the very object that is publishing).
    for (;;) {
      const { publishedVersion } = (await (await writer.platform("GET", "/config/status")).json()) as { publishedVersion: number };
      if (publishedVersion >= version) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const reader = isolate(space, clock);
    const path = uniquePath();
    for (const i of [0, 1, 4_999, 9_998, 9_999]) {
      await script(`/t${i}${path}`, [{ body: `tenant ${i}` }]);
      for (const host of [`${prefix}-${i}.test`, `www.${prefix}-${i}.test`]) {
        const res = await reader.fetch(`/t${i}${path}`, { host });
        expect(await res.text()).toBe(`tenant ${i}`);
        // Another tenant's route is not this tenant's.
        expect((await reader.fetch(`/t${(i + 1) % 10_000}${path}`, { host })).status).toBe(404);
      }
    }
  });
});
