/**
 * The per-data-center relay of purge marks (src/relay.ts, src/purge/client.ts) with the real
 * PurgeLog object and real Cache API caches, one named cache per data center (`caches.open`),
 * on the injected clock. The object namespace is wrapped to count, hold (a gate) or fail its
 * reads: the failure is an injected fault, as an unavailable object would look to an isolate.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  PURGE_MAX_STALE_MS,
  PURGE_RELAY_HEAD_TTL_SECONDS,
  PURGE_RELAY_POLL_MS,
  PURGE_RELAY_REFRESH_MS,
  RELAY_BACKOFF_MIN_MS,
} from "../../src/constants";
import type { PurgeLog } from "../../src/purge/object";
import { TestClock, testBrim, type TestBrim } from "../support/brim";
import { requests, script, uniquePath, type ResponseSpec } from "../support/origin";
import { cacheStatus, expectHit, expectPurgedMiss, purge, uniqueTenant } from "./support";

// No coalescing: each data center fills its own cache from the origin (the relay is what is tested).
const ROUTES = [{ path: "/*", cache: { coalesce: false } }];
const FRESH: ResponseSpec = { headers: { "cache-control": "max-age=600", "content-type": "text/plain" }, body: "v{count}" };

/** What the wrapped namespace saw and does: `reads` counted, held while `gate` is set, failing while `fail`. */
interface Probe {
  reads: number;
  fail: boolean;
  gate: Promise<void> | null;
  reached: (() => void) | null;
}

function probe(): Probe {
  return { reads: 0, fail: false, gate: null, reached: null };
}

function probedPurgeLog(p: Probe): DurableObjectNamespace<PurgeLog> {
  const ns = env.PURGE_LOG;
  return {
    idFromName: (name: string) => ns.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = ns.get(id);
      return {
        purge: (...args: Parameters<PurgeLog["purge"]>) => stub.purge(...args),
        read: async (have: number) => {
          p.reads += 1;
          p.reached?.();
          if (p.gate) await p.gate;
          if (p.fail) throw new Error("injected fault: PurgeLog unavailable");
          return stub.read(have);
        },
      };
    },
  } as unknown as DurableObjectNamespace<PurgeLog>;
}

/** A data center: its own cache, shared by the isolates built on it. */
function dataCenter(): () => Promise<Cache> {
  const name = `dc-${crypto.randomUUID()}`;
  return () => caches.open(name);
}

/**
 * One isolate of data center `cache`. The memory tier is off: these tests follow which body
 * each isolate reads from its data center's Cache API as marks arrive (with it on, an isolate
 * that has not seen a purge yet may also answer from its own copy, within the same bound).
 */
function isolate(tenant: string, clock: TestClock, cache: () => Promise<Cache>, p: Probe): TestBrim {
  return testBrim({ [tenant]: ROUTES }, { purge: true, clock, cache, purgeLog: probedPurgeLog(p), memoryTier: { maxEntryBytes: 0 } });
}

async function stored(host: string, path: string, ...isolates: TestBrim[]): Promise<void> {
  await script(path, [FRESH]);
  for (const brim of isolates) {
    await brim.fetch(path, { host });
    await expectHit(brim, path, host);
  }
}

describe("relay: staleness bound on the injected clock", () => {
  it(`a purge from another data center reaches a busy isolate within REFRESH + POLL (${PURGE_RELAY_REFRESH_MS} + ${PURGE_RELAY_POLL_MS} ms), hits never waiting`, async () => {
    const tenant = uniqueTenant();
    const host = `${tenant}.test`;
    const clock = new TestClock();
    const p = probe();
    const reader = isolate(tenant, clock, dataCenter(), p);
    const purger = isolate(tenant, clock, dataCenter(), probe());
    const path = uniquePath();
    await stored(host, path, reader);
    expect(p.reads).toBe(1); // the cold read, which filled the relay
    expect((await purge(purger, host, { urls: [path] })).status).toBe(200);
    const seen: { ms: number; status: string; body: string }[] = [];
    for (let ms = 100; ms <= PURGE_MAX_STALE_MS + 500; ms += 100) {
      clock.advance(0.1);
      seen.push({ ms, ...(await cacheStatus(reader, path, host)) });
    }
    const first = seen.findIndex((s) => s.status.endsWith("detail=purged"));
    expect(first).toBeGreaterThan(0);
    // The relay copy is refreshed once REFRESH old, at the next poll; the request after sees it.
    expect(seen[first]!.ms).toBeLessThanOrEqual(PURGE_RELAY_REFRESH_MS + PURGE_RELAY_POLL_MS + 100);
    expect(seen[first]!.ms).toBeGreaterThanOrEqual(PURGE_RELAY_REFRESH_MS);
    // Before: hits on the old marks (no waiting); after: never the purged body again.
    expect(seen.slice(0, first).every((s) => /^Brim; hit/.test(s.status) && s.body === "v1")).toBe(true);
    expect(seen.slice(first).every((s) => s.body !== "v1")).toBe(true);
    // One object read per REFRESH for the data center, not one per request or per poll.
    expect(p.reads).toBeLessThanOrEqual(1 + Math.ceil((PURGE_MAX_STALE_MS + 500) / PURGE_RELAY_REFRESH_MS));
  });

  it("an idle isolate past PURGE_MAX_STALE_MS waits: for the object when the relay is as old, else for the relay only", async () => {
    const tenant = uniqueTenant();
    const host = `${tenant}.test`;
    const clock = new TestClock();
    const p = probe();
    const dc = dataCenter();
    const [r1, r2] = [isolate(tenant, clock, dc, p), isolate(tenant, clock, dc, p)];
    const path = uniquePath();
    await stored(host, path, r1, r2);
    expect(p.reads).toBe(1); // r2 started from the relay copy r1 wrote
    await purge(isolate(tenant, clock, dataCenter(), probe()), host, { urls: [path] });
    clock.advance(PURGE_MAX_STALE_MS / 1000);
    await expectPurgedMiss(r1, path, host);
    expect(p.reads).toBe(2);
    await expectHit(r2, path, host, "v2");
    expect(p.reads).toBe(2);
  });
});

describe("relay: one object read per data center", () => {
  it("isolates of a data center share one leased refresh; a cold isolate starts from the relay copy", async () => {
    const tenant = uniqueTenant();
    const host = `${tenant}.test`;
    const clock = new TestClock();
    const p = probe();
    const dc = dataCenter();
    const isolates = Array.from({ length: 4 }, () => isolate(tenant, clock, dc, p));
    const path = uniquePath();
    await stored(host, path, ...isolates);
    expect(p.reads).toBe(1);
    for (let round = 1; round <= 3; round++) {
      clock.advance(PURGE_RELAY_REFRESH_MS / 1000);
      for (const brim of isolates) await expectHit(brim, path, host);
      expect(p.reads).toBe(1 + round);
    }
    await expectHit(isolate(tenant, clock, dc, p), path, host);
    expect(p.reads).toBe(4);
  });

  it("two data centers (two caches) each keep their own relay copy", async () => {
    const tenant = uniqueTenant();
    const host = `${tenant}.test`;
    const clock = new TestClock();
    const p = probe();
    const [dcA, dcB] = [dataCenter(), dataCenter()];
    const [a1, a2, b1] = [isolate(tenant, clock, dcA, p), isolate(tenant, clock, dcA, p), isolate(tenant, clock, dcB, p)];
    const path = uniquePath();
    await stored(host, path, a1, a2, b1);
    expect(p.reads).toBe(2); // one cold read per data center
    const relayUrl = `https://relay.brim.invalid/purge/${tenant}`;
    const heads = await Promise.all([dcA, dcB].map(async (dc) => (await (await dc()).match(relayUrl))?.json()));
    expect(heads.every((head) => head !== undefined)).toBe(true);

    // The purging isolate sees its purge at once, its data center at the next poll, the other
    // data center only once its own relay copy is refreshed.
    expect((await purge(a1, host, { urls: [path] })).status).toBe(200);
    expect(await expectPurgedMiss(a1, path, host)).toBe("v3");
    clock.advance(PURGE_RELAY_POLL_MS / 1000);
    await expectHit(a2, path, host, "v3"); // the entry a1 refetched; this request polled a's relay
    await expectHit(b1, path, host, "v2"); // b's relay copy is younger than REFRESH: still the old marks
    const headB = (await (await dcB()).match(relayUrl))?.json() as Promise<{ v: string }>;
    expect((await headB).v).toBe("0");
    clock.advance((PURGE_RELAY_REFRESH_MS - PURGE_RELAY_POLL_MS) / 1000);
    await expectHit(b1, path, host, "v2");
    expect(await expectPurgedMiss(b1, path, host)).toBe("v4");
  });
});

describe("relay: failures back off", () => {
  it(`a failing object is retried after ${RELAY_BACKOFF_MIN_MS} ms, then twice as long, never per request`, async () => {
    const tenant = uniqueTenant();
    const host = `${tenant}.test`;
    const clock = new TestClock();
    const p = probe();
    p.fail = true;
    const brim = isolate(tenant, clock, dataCenter(), p);
    const path = uniquePath();
    await script(path, [FRESH]);
    // Cold, the relay empty, the object failing: served anyway (availability), one read attempt.
    for (let i = 0; i < 5; i++) expect((await brim.fetch(path, { host })).status).toBe(200);
    expect(p.reads).toBe(1);
    const delays = () => brim.logs.filter((e) => e.event === "relay-object-read-failed").map((e) => e.retryInMs);
    expect(delays()).toEqual([RELAY_BACKOFF_MIN_MS]);
    clock.advance(RELAY_BACKOFF_MIN_MS / 1000);
    for (let i = 0; i < 5; i++) await brim.fetch(path, { host });
    expect(p.reads).toBe(2);
    expect(delays()).toEqual([RELAY_BACKOFF_MIN_MS, 2 * RELAY_BACKOFF_MIN_MS]);
    clock.advance(RELAY_BACKOFF_MIN_MS / 1000);
    for (let i = 0; i < 5; i++) await brim.fetch(path, { host });
    expect(p.reads).toBe(2);
    // Back: the next attempt succeeds, and the marks are read.
    p.fail = false;
    clock.advance(RELAY_BACKOFF_MIN_MS / 1000);
    await brim.fetch(path, { host });
    expect(p.reads).toBe(3);
    await expectHit(brim, path, host);
    expect(delays()).toHaveLength(2);
  });

  it("a data center's other isolates do not retry while a failed read's lease runs, even past PURGE_MAX_STALE_MS", async () => {
    const tenant = uniqueTenant();
    const host = `${tenant}.test`;
    const clock = new TestClock();
    const p = probe();
    const dc = dataCenter();
    const isolates = Array.from({ length: 3 }, () => isolate(tenant, clock, dc, p));
    const path = uniquePath();
    await stored(host, path, ...isolates);
    p.fail = true;
    clock.advance(PURGE_RELAY_REFRESH_MS / 1000);
    for (const brim of isolates) await expectHit(brim, path, host);
    expect(p.reads).toBe(2); // the lease holder's attempt only
    // Past the bound every isolate would wait for the object; the failed lease (the first
    // isolate's back-off) holds them off: one more attempt for the data center, hits served.
    clock.advance((PURGE_MAX_STALE_MS - PURGE_RELAY_REFRESH_MS) / 1000);
    for (const brim of isolates) await expectHit(brim, path, host);
    expect(p.reads).toBe(3);
  });
});

describe("relay: hits never wait for it", () => {
  it("while the object read is held, hits and a cold isolate's first request complete", async () => {
    const tenant = uniqueTenant();
    const host = `${tenant}.test`;
    const clock = new TestClock();
    const p = probe();
    const dc = dataCenter();
    const reader = isolate(tenant, clock, dc, p);
    const path = uniquePath();
    await stored(host, path, reader);
    let open!: () => void;
    p.gate = new Promise<void>((resolve) => (open = resolve));
    const reached = new Promise<void>((resolve) => (p.reached = resolve));
    clock.advance(PURGE_RELAY_REFRESH_MS / 1000);
    // The refresh starts in the background and is held at the object; the hit does not wait.
    const hit = await reader.fetch(path, { host, background: false });
    expect(hit.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await hit.text()).toBe("v1");
    await reached;
    // A cold isolate of the data center starts from the relay copy: no object call needed.
    const cold = await isolate(tenant, clock, dc, p).fetch(path, { host, background: false });
    expect(cold.headers.get("cache-status")).toMatch(/^Brim; hit/);
    await cold.text();
    expect(p.reads).toBe(2);
    open();
    await reader.settled();
  });
});

describe("relay: a new isolate while the tenant's PurgeLog is unreachable", () => {
  const ETAGGED: ResponseSpec = {
    headers: { "cache-control": "max-age=600", etag: '"e1"', "content-type": "text/plain" },
    body: "v{count}",
  };

  /** Two entries stored by one isolate, `purged` hard-purged; the relay copy then ages past PURGE_MAX_STALE_MS. */
  async function purgedLongAgo() {
    const tenant = uniqueTenant();
    const host = `${tenant}.test`;
    const clock = new TestClock();
    const dc = dataCenter();
    const first = isolate(tenant, clock, dc, probe());
    const [purged, kept] = [uniquePath(), uniquePath()];
    await stored(host, purged, first);
    await script(kept, [ETAGGED]);
    await first.fetch(kept, { host });
    await expectHit(first, kept, host);
    expect((await purge(first, host, { urls: [purged] })).status).toBe(200);
    // Old marks, fresh entries (max-age=600 on the same clock).
    clock.advance(120);
    const down = probe();
    down.fail = true;
    return { tenant, host, clock, dc, purged, kept, down, relayUrl: `https://relay.brim.invalid/purge/${tenant}` };
  }

  it("with only an old relay copy: the new isolate takes it, so the purged entry stays hidden and the rest are hits", async () => {
    const { tenant, host, clock, dc, purged, kept, down, relayUrl } = await purgedLongAgo();
    // The head outlives the 60 s of other relays, so an old copy is there to take.
    const head = await (await dc()).match(relayUrl);
    expect(head?.headers.get("cache-control")).toBe(`max-age=${PURGE_RELAY_HEAD_TTL_SECONDS}`);
    await head?.body?.cancel();
    const fresh = isolate(tenant, clock, dc, down);
    expect(await expectPurgedMiss(fresh, purged, host)).toBe("v2");
    await expectHit(fresh, kept, host, "v1");
    expect(down.reads).toBe(1); // the object was asked, failed, and is backed off
    expect(fresh.logs.some((e) => e.event === "purge-marks-unknown")).toBe(false);
  });

  it("with no relay copy at all: stored entries are validated with the origin, never plain hits, until a load succeeds", async () => {
    const { tenant, host, clock, dc, purged, kept, down, relayUrl } = await purgedLongAgo();
    expect(await (await dc()).delete(relayUrl)).toBe(true); // as if the head had expired
    // Memory tier on (the default): a copy in this isolate's memory obeys the same rule.
    const fresh = testBrim({ [tenant]: ROUTES }, { purge: true, clock, cache: dc, purgeLog: probedPurgeLog(down) });
    // The hard-purged entry (no validator) is fetched again, never served.
    expect(await cacheStatus(fresh, purged, host)).toEqual({ status: "Brim; fwd=stale; fwd-status=200; stored", body: "v2" });
    // The price: an entry never purged is validated too (If-None-Match; a 304 serves it), on every request.
    for (const n of [2, 3]) {
      const res = await cacheStatus(fresh, kept, host);
      expect(res.status).toMatch(/^Brim; fwd=stale; fwd-status=304; ttl=\d+$/);
      expect(res.body).toBe("v1");
      const log = await requests(kept);
      expect(log.count).toBe(n);
      expect(log.requests[n - 1]?.headers["if-none-match"]).toBe('"e1"');
    }
    // Logged once per back-off period, not per request.
    expect(fresh.logs.filter((e) => e.event === "purge-marks-unknown")).toHaveLength(1);

    // The object is back: after the back-off the next request loads the marks; hits resume.
    down.fail = false;
    clock.advance(RELAY_BACKOFF_MIN_MS / 1000);
    await fresh.fetch(kept, { host });
    await expectHit(fresh, kept, host, "v1");
    expect((await cacheStatus(fresh, purged, host)).body).not.toBe("v1");
    await expectHit(fresh, purged, host);
  });
});
