/**
 * The revocation feed is parsed as it streams in, within a memory bound (issue #16), through the
 * real `RevocationList` object and feeds generated chunk by chunk by the test origin: 10^6
 * entries are held in 8 bytes each and the parser never holds more than a chunk of the 38 MB
 * body; a feed cut short (cleanly or by a reset), past the entry cap, stating a wrong `count`,
 * or stalling past the fetch timeout leaves the last good list in force. The parser itself is
 * checked against `JSON.parse` with the document split at every position.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { testBrim } from "../support/brim";
import { REVOCATION_FETCH_TIMEOUT_MS, REVOCATION_MAX_JTI } from "../../src/constants";
import type { RevocationSource } from "../../src/auth/revocation/object";
import { FingerprintSet } from "../../src/auth/revocation/set";
import { FeedParser } from "../../src/auth/revocation/stream";
import { release, script, uniqueGate, uniquePath } from "../support/origin";
import { authBlock, feedId, goodClaims, ISSUER, revocationServer, sign, signingKey, type RevocationServer } from "../support/jwt";

const REFRESH = 30;

function sourceOf(server: RevocationServer): RevocationSource {
  return { url: server.url, refreshSeconds: REFRESH, issuer: ISSUER, tenantId: "acme" };
}

function stub(server: RevocationServer) {
  return env.REVOCATIONS.get(env.REVOCATIONS.idFromName(`acme\n${server.url}`));
}

/** Has the object fetch the feed now (a read whose clock is one interval later). */
async function fetchAt(server: RevocationServer, now: number) {
  return stub(server).read({ source: sourceOf(server), now, have: null, holding: [] });
}

/** A good list of 1,000 ids ("g-…"), then `next` served; what the object holds after fetching it. */
async function afterGoodList(next: (server: RevocationServer) => Promise<void>) {
  const server = await revocationServer();
  await server.generate({ jti: 1_000, prefix: "g-" });
  const t0 = Date.now();
  const good = await fetchAt(server, t0);
  expect(good.manifest?.jti).toBe(1_000);
  await next(server);
  const after = await fetchAt(server, t0 + REFRESH * 1000);
  return { server, good, after, stats: await stub(server).stats() };
}

describe("a 10^6-entry feed", () => {
  it("is held in 8 bytes per jti, parsed a chunk at a time, and enforced", async () => {
    const key = await signingKey("ES256");
    const server = await revocationServer();
    await server.generate({ jti: 1_000_000 });
    const brim = testBrim([
      {
        id: "acme",
        auth: authBlock({ keys: [key.jwk!] }, { revocation: { url: server.url, refreshSeconds: REFRESH } }),
        routes: [{ path: "/*", auth: "required", cache: false }],
      },
    ]);
    // The object fetches and parses the feed first (the isolate's read has its own 5 s bound).
    expect((await fetchAt(server, Date.now())).manifest?.jti).toBe(1_000_000);
    const path = uniquePath();
    await script(path, [{ body: "ok" }]);
    const token = async (jti: string) => sign(key, goodClaims(brim.clock.now(), { jti }));
    expect((await brim.fetch(path, { token: await token(feedId(123_456)) })).status).toBe(401);
    expect((await brim.fetch(path, { token: await token(feedId(999_999)) })).status).toBe(401);
    expect((await brim.fetch(path, { token: await token("not-revoked") })).status).toBe(200);

    const stats = await stub(server).stats();
    expect(stats.jti).toBe(1_000_000);
    // The compact store: 8 bytes per jti, nothing else per entry.
    expect(stats.jtiBytes).toBe(8 * 1_000_000);
    // The body was ~38 MB; the parser held one chunk (plus a partial id) at a time.
    const feed = stats.lastFeed!;
    expect(feed.listed).toBe(1_000_000);
    expect(feed.bytes).toBeGreaterThan(38_000_000);
    expect(feed.maxHeldChars).toBeLessThan(1024 * 1024);
  }, 180_000);
});

describe("a feed that may not replace the last good list", () => {
  it("cut short with a clean end of body: rejected as truncated, the last good list kept", async () => {
    const { good, after, stats } = await afterGoodList((s) =>
      s.generate({ jti: 2_000, prefix: "g-", cutAfter: { entries: 1_500, how: "fin" } }),
    );
    expect(after.feedRejections).toEqual({ truncated: 1 });
    expect(after.version).toBe(good.version);
    expect(stats.jti).toBe(1_000);
  });

  it("cut short by a reset: a failed fetch, the last good list kept", async () => {
    const { good, after, stats } = await afterGoodList((s) =>
      s.generate({ jti: 200_000, prefix: "g-", cutAfter: { entries: 150_000, how: "reset" } }),
    );
    expect(after.feedRejections).toEqual({});
    expect(after.version).toBe(good.version);
    expect(after.fetchedAt).toBe(good.fetchedAt);
    expect(stats.jti).toBe(1_000);
  });

  it('10^7 entries announced by "count": refused before they are read, the last good list kept', async () => {
    const { good, after, stats } = await afterGoodList((s) => s.generate({ jti: 10_000_000, prefix: "g-", count: 10_000_000 }));
    expect(after.feedRejections).toEqual({ "too-large": 1 });
    expect(after.version).toBe(good.version);
    expect(stats.jti).toBe(1_000);
    // Read no further than the first chunks, not the ~400 MB the feed would be.
    expect(stats.lastFeed!.bytes).toBeLessThan(4 * 1024 * 1024);
  });

  it('a "count" that is not the number listed: rejected, the last good list kept', async () => {
    const { good, after } = await afterGoodList((s) => s.generate({ jti: 1_000, prefix: "g-", count: 2_000 }));
    expect(after.feedRejections).toEqual({ count: 1 });
    expect(after.version).toBe(good.version);
  });

  it(
    "a feed that stalls past the fetch timeout: a failed fetch, the last good list kept",
    async () => {
      const gate = uniqueGate();
      const { good, after, stats } = await afterGoodList((s) =>
        script(s.path, [
          {
            raw: {
              head: "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
              // A chunk of 8 bytes that starts a valid feed, then nothing.
              parts: ['8\r\n{"jti":[\r\n'],
              end: "stall",
              stallGate: gate,
            },
          },
        ]),
      );
      await release(gate);
      expect(after.feedRejections).toEqual({});
      expect(after.version).toBe(good.version);
      expect(stats.jti).toBe(1_000);
    },
    REVOCATION_FETCH_TIMEOUT_MS + 30_000,
  );
});

describe("what a feed may contain", () => {
  it('duplicates are kept once; a "count" that matches is accepted', async () => {
    const server = await revocationServer({ jti: ["a", "b", "a", "a"], sub: { s: 1 }, count: 5 });
    const result = await fetchAt(server, Date.now());
    expect(result.feedRejections).toEqual({});
    expect(result.manifest?.jti).toBe(2);
    expect((await stub(server).stats()).jtiBytes).toBe(16);
  });
});

describe("FeedParser", () => {
  const doc = JSON.stringify({
    count: 9,
    iss: ISSUER,
    jti: ["plain", 'q"uote\\back/slash', "tab\there\u0001", "é ü 😀 \u2028", "", "x".repeat(300)],
    sub: { 'al"ice': 1.5e9, bob: -0, "😀": 1763900000 },
    allowShrink: false,
  })
    .replace('"plain"', ' "\\u0070lain" ')
    .replace("1500000000", "1.5e9");
  const expected = JSON.parse(doc) as { jti: string[]; sub: Record<string, number> };

  it("gives JSON.parse's strings and numbers, wherever the chunks split the document", () => {
    const want = FingerprintSet.fromIds(expected.jti).fingerprints;
    for (let cut = 0; cut <= doc.length; cut++) {
      for (const second of [cut, Math.min(doc.length, cut + 1), Math.min(doc.length, cut + 7)]) {
        const parser = new FeedParser(ISSUER);
        parser.write(doc.slice(0, cut));
        parser.write(doc.slice(cut, second));
        parser.write(doc.slice(second));
        const result = parser.end();
        if (!result.ok) throw new Error(`cut at ${cut}/${second}: ${result.reason} ${result.detail}`);
        expect([...result.feed.jti]).toEqual([...want]);
        expect(Object.fromEntries(result.feed.sub)).toEqual(expected.sub);
        expect(result.feed.listed).toBe(9);
      }
    }
  });

  it(`refuses the ${REVOCATION_MAX_JTI + 1}th jti (a feed of 10^7 without "count"), having held 8 bytes per jti`, () => {
    const parser = new FeedParser(ISSUER);
    parser.write(`{"iss":${JSON.stringify(ISSUER)},"jti":[`);
    const perChunk = 10_000;
    for (let start = 0; start < 10_000_000 && parser.failure === null; start += perChunk) {
      let chunk = "";
      for (let i = start; i < start + perChunk; i++) chunk += `${i === 0 ? "" : ","}"${feedId(i, "c-", 8)}"`;
      parser.write(chunk);
      expect(parser.heldBytes).toBeLessThanOrEqual(8 * (start + perChunk) + 8 * 65_536);
    }
    expect(parser.failure?.reason).toBe("too-large");
    expect(parser.end()).toMatchObject({ ok: false, reason: "too-large" });
  }, 120_000);

  it.each(
    (
      [
        ['{"iss":"https://idp.test","jti":["a"]} x', "not-json"],
        ['{"iss":"https://idp.test","jti":["a"],}', "not-json"],
        ['{"iss":"https://idp.test","jti":["a" "b"]}', "not-json"],
        ['{"iss":"https://idp.test","jti":["a\\x"]}', "not-json"],
        ['{"iss":"https://idp.test","jti":[01]}', "not-json"],
        ['{"iss":"https://idp.test","jti":["a"],"jti":[]}', "schema"],
        ['{"iss":"https://idp.test","count":-1}', "schema"],
        ['{"iss":"https://idp.test","count":1.5}', "schema"],
        ['{"iss":"https://idp.test","jti":[["a"]]}', "schema"],
        ['{"iss":"https://idp.test","sub":{"a":{}}}', "schema"],
        ['{"iss":"https://idp.test","jti":["<5,000 x>"]}'.replace("<5,000 x>", "x".repeat(5000)), "schema"],
        ['{"iss":"https://idp.test","jti":["a"', "truncated"],
        ['{"iss":"https://idp.test","jti":["a"]', "truncated"],
        ["", "not-json"],
        ['{"jti":["a"]}', "wrong-issuer"],
      ] as [string, string][]
    ).map(([text, reason]) => [text.length > 80 ? `${text.slice(0, 40)}…(${text.length} chars)` : text, text, reason]),
  )("%s: %s", (_label, text, reason) => {
    const parser = new FeedParser(ISSUER);
    parser.write(text);
    const result = parser.end();
    expect(result.ok ? "ok" : result.reason).toBe(reason);
  });
});
