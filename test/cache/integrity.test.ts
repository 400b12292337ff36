/**
 * Integrity under faulty origins: a body the origin did not finish sending is never stored,
 * never ends cleanly for the client, and the next request asks the origin again. The origin
 * misbehaves on command over a raw socket (test/support/origin-server.ts `raw`), so framing
 * faults are real bytes on a real connection, read by workerd's real fetch and Cache API.
 */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { count, generatedBody, release, script, uniqueGate, uniquePath, type ResponseSpec } from "../support/origin";
import type { RawSpec } from "../support/origin-server";
import { testBrim } from "../support/brim";

const HEAD = "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncache-control: max-age=600\r\n";
const CHUNKED = `${HEAD}transfer-encoding: chunked\r\n\r\n`;
/**
 * For a raw response that is complete as framed: the origin closes the connection after it, and
 * must say so, or workerd may send the next request on the closing connection (a race that
 * fails that request as "origin unreachable").
 */
const CLOSE = "connection: close\r\n";
const GOOD: ResponseSpec = {
  headers: { "cache-control": "max-age=600", "content-type": "application/octet-stream" },
  body: "complete body {count}",
};

/** Every framing fault the origin can commit, and the log event Brim names it with. */
const FAULTS: [string, RawSpec, string][] = [
  [
    "early close before Content-Length is reached",
    { head: `${HEAD}content-length: 1000\r\n\r\n`, parts: [{ bytes: 500 }], end: "fin" },
    "origin-body-incomplete",
  ],
  [
    "connection reset mid-body",
    { head: `${HEAD}content-length: 200000\r\n\r\n`, parts: [{ bytes: 100_000 }], end: "reset" },
    "origin-body-incomplete",
  ],
  ["invalid chunk size", { head: CHUNKED, parts: ["5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n"], end: "fin" }, "origin-body-incomplete"],
  ["chunked body without its terminator", { head: CHUNKED, parts: ["5\r\nhello\r\n"], end: "fin" }, "origin-body-incomplete"],
  ["chunked body reset mid-chunk", { head: CHUNKED, parts: ["100\r\nhello"], end: "reset" }, "origin-body-incomplete"],
];

/** Reads a body to the end; returns how it ended. */
async function outcome(res: Response): Promise<{ ended: "clean"; text: string } | { ended: "error"; error: string }> {
  try {
    return { ended: "clean", text: await res.text() };
  } catch (error) {
    return { ended: "error", error: String(error) };
  }
}

describe("a body the origin did not finish is never stored (cache routes)", () => {
  for (const coalesce of [true, false]) {
    describe(coalesce ? "through the coalescing object" : "coalescing off", () => {
      it.each(FAULTS)(
        "%s: the client's transfer fails, nothing is stored, the next request refetches and stores",
        async (_, raw, event) => {
          const brim = testBrim({ acme: [{ path: "/*", cache: { coalesce } }] });
          const path = uniquePath();
          await script(path, [{ raw }, GOOD]);

          const first = await brim.fetch(path, { background: false });
          expect(first.status).toBe(200);
          const seen = await outcome(first);
          expect(seen.ended).toBe("error");
          await brim.settled();
          expect(brim.logs.some((log) => log.event === event)).toBe(true);

          // Nothing was stored: the next request is a miss that reaches the origin, and the
          // complete answer it gets is stored normally.
          const second = await brim.fetch(path);
          expect(await second.text()).toBe("complete body 2");
          expect(second.headers.get("cache-status")).toMatch(/^Brim; fwd=uri-miss; fwd-status=200; stored/);
          const third = await brim.fetch(path);
          expect(third.headers.get("cache-status")).toMatch(/^Brim; hit/);
          expect(await third.text()).toBe("complete body 2");
          expect(await count(path)).toBe(2);
        },
      );
    });
  }

  it("on an uncached route the client's transfer fails too (never a clean end)", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: false }] });
    const path = uniquePath();
    await script(path, [{ raw: FAULTS[0]![1] }]);
    const res = await brim.fetch(path, { background: false });
    expect((await outcome(res)).ended).toBe("error");
    await brim.settled();
    expect(brim.logs.some((log) => log.event === "origin-body-incomplete")).toBe(true);
  });

  it("concurrent clients joined to one coalesced fetch all see the failure; the next request fetches again", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: {} }] });
    const path = uniquePath();
    const gate = uniqueGate();
    // Headers and half the body go out at once; the connection closes early once the gate opens.
    await script(path, [{ raw: { head: `${HEAD}content-length: 2000\r\n\r\n`, parts: [{ bytes: 1000 }, { gate }], end: "fin" } }, GOOD]);
    const responses = await Promise.all(Array.from({ length: 4 }, () => brim.fetch(path, { background: false })));
    expect(await count(path)).toBe(1);
    expect(responses.filter((res) => res.headers.get("cache-status")?.includes("collapsed"))).toHaveLength(3);
    const reads = responses.map(outcome);
    await release(gate);
    for (const seen of await Promise.all(reads)) expect(seen.ended).toBe("error");
    await brim.settled();
    const next = await brim.fetch(path);
    expect(await next.text()).toBe("complete body 2");
    expect(await count(path)).toBe(2);
  });

  it("a compressed variant of a cut body is not stored either", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: {} }] });
    const path = uniquePath();
    const head = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncache-control: max-age=600\r\ncontent-length: 200000\r\n\r\n";
    await script(path, [
      { raw: { head, parts: [{ bytes: 100_000 }], end: "fin" } },
      { ...GOOD, headers: { ...GOOD.headers, "content-type": "text/plain" }, bodyBytes: 200_000 },
    ]);
    const first = await brim.fetch(path, { headers: { "accept-encoding": "br" }, background: false });
    expect(first.headers.get("content-encoding")).toBe("br");
    expect((await outcome(first)).ended).toBe("error");
    await brim.settled();
    const second = await brim.fetch(path, { headers: { "accept-encoding": "br" } });
    expect(second.headers.get("cache-status")).toMatch(/^Brim; fwd=uri-miss/);
    const third = await brim.fetch(path, { headers: { "accept-encoding": "br" } });
    expect(third.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await count(path)).toBe(2);
  });

  it("a chunked body that passes maxObjectBytes reaches the client whole but is not stored", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { maxObjectBytes: 10_000 } }] });
    const path = uniquePath();
    await script(path, [
      {
        raw: {
          head: `${HEAD}${CLOSE}transfer-encoding: chunked\r\n\r\n`,
          parts: ["4e20\r\n", { bytes: 20_000 }, "\r\n0\r\n\r\n"],
          end: "fin",
        },
      },
    ]);
    const first = await brim.fetch(path);
    expect(await first.text()).toBe(generatedBody(20_000));
    expect(brim.logs.some((log) => log.event === "cache-write-failed")).toBe(true);
    const second = await brim.fetch(path);
    expect(second.headers.get("cache-status")).toMatch(/^Brim; fwd=uri-miss/);
    expect(await count(path)).toBe(2);
  });

  it("a body stored in several segments is served whole from the cache", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: {} }] });
    const path = uniquePath();
    const size = 9 * 1024 * 1024 + 123;
    await script(path, [{ headers: { "cache-control": "max-age=600" }, bodyBytes: size }]);
    expect((await (await brim.fetch(path)).text()) === generatedBody(size)).toBe(true);
    const hit = await brim.fetch(path);
    expect(hit.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(hit.headers.get("content-length")).toBe(String(size));
    expect((await hit.text()) === generatedBody(size)).toBe(true);
    expect(await count(path)).toBe(1);
    // Heavy (9 MiB written and read back): an explicit budget for a busy machine.
  }, 60_000);
});

describe("a stalled body is abandoned (bodyIdleTimeoutMs)", () => {
  for (const coalesce of [true, false]) {
    it(`${coalesce ? "coalesced" : "direct"}: the transfer fails, nothing is stored, the next request refetches`, async () => {
      const brim = testBrim({ acme: [{ path: "/*", bodyIdleTimeoutMs: 100, cache: { coalesce } }] });
      const path = uniquePath();
      // Headers and a few bytes, then silence on an open connection (never released).
      await script(path, [{ raw: { head: `${HEAD}content-length: 1000\r\n\r\n`, parts: [{ bytes: 10 }], end: "stall" } }, GOOD]);
      const first = await brim.fetch(path, { background: false });
      const seen = await outcome(first);
      expect(seen.ended).toBe("error");
      await brim.settled();
      expect(brim.logs.some((log) => log.event === "origin-body-idle-timeout")).toBe(true);
      const second = await brim.fetch(path);
      expect(await second.text()).toBe("complete body 2");
      expect(await count(path)).toBe(2);
    });
  }

  it("a stall that ends in a reset fails the transfer and stores nothing", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: {} }] });
    const path = uniquePath();
    const gate = uniqueGate();
    await script(path, [{ raw: { head: CHUNKED, parts: ["5\r\nhello\r\n"], end: "stall", stallGate: gate } }, GOOD]);
    const first = await brim.fetch(path, { background: false });
    const read = outcome(first);
    await release(gate);
    expect((await read).ended).toBe("error");
    await brim.settled();
    expect(await (await brim.fetch(path)).text()).toBe("complete body 2");
    expect(await count(path)).toBe(2);
  });
});

describe("decoded-size limits for every coding (compression bombs)", () => {
  const BOMB_BYTES = 16 * 1024 * 1024;
  const bombHead = (coding: string) =>
    `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncache-control: max-age=600\r\ncontent-encoding: ${coding}\r\nconnection: close\r\n\r\n`;
  const cases: [string, RawSpec][] = [
    ["gzip", { head: bombHead("gzip"), parts: [{ gzipBomb: BOMB_BYTES }], end: "fin" }],
    ["br", { head: bombHead("br"), parts: [{ brBomb: BOMB_BYTES }], end: "fin" }],
  ];
  for (const [coding, raw] of cases) {
    it(`${coding}: past the ratio cap the decode aborts for the client and nothing is stored`, async () => {
      // Default maxObjectBytes (100 MiB): the absolute cap is not what stops this one.
      const brim = testBrim({ acme: [{ path: "/*", cache: {}, compression: false }] });
      const path = uniquePath();
      await script(path, [{ raw }, GOOD]);
      const first = await brim.fetch(path, { headers: { "accept-encoding": "identity" }, background: false });
      const seen = await outcome(first);
      expect(seen.ended).toBe("error");
      await brim.settled();
      expect(brim.logs.some((log) => log.event === "decode-limit-exceeded")).toBe(true);
      expect(await (await brim.fetch(path)).text()).toBe("complete body 2");
      expect(await count(path)).toBe(2);
      // Building a 16 MiB bomb on the origin costs CPU the first time: an explicit budget.
    }, 60_000);

    it(`${coding}: past maxObjectBytes the decode aborts (absolute cap)`, async () => {
      const brim = testBrim({ acme: [{ path: "/*", cache: { maxObjectBytes: 100_000 } }] });
      const path = uniquePath();
      await script(path, [{ raw }, GOOD]);
      // identity: the route must decode (a client that takes the origin's coding gets its bytes untouched).
      const first = await brim.fetch(path, { headers: { "accept-encoding": "identity" }, background: false });
      const seen = await outcome(first);
      expect(seen).toEqual({ ended: "error", error: expect.stringMatching(/decode-limit: decoded body passes 100000 bytes/) });
      await brim.settled();
      expect(brim.logs.some((log) => log.event === "decode-limit-exceeded")).toBe(true);
      expect(await (await brim.fetch(path)).text()).toBe("complete body 2");
      expect(await count(path)).toBe(2);
    });
  }

  it("an origin's br passes through untouched to a client that negotiated br (nothing decoded)", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: {} }] });
    const path = uniquePath();
    // A br bomb: decoding it would trip the ratio cap, so a clean pass-through proves no decode.
    await script(path, [{ raw: { head: bombHead("br"), parts: [{ brBomb: BOMB_BYTES }], end: "fin" } }]);
    const res = await brim.fetch(path, { headers: { "accept-encoding": "br" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe("br");
    expect(brim.logs.some((log) => log.event === "decode-limit-exceeded")).toBe(false);
  });
});

describe("never a coding the client did not accept", () => {
  const encodedHead = (coding: string) =>
    `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncache-control: max-age=600\r\ncontent-encoding: ${coding}\r\ncontent-length: 6\r\n${CLOSE}\r\n`;

  it.each([true, false])(
    "an unknown coding: 502 for a client that does not accept it, the bytes as they are for one that does; never stored (cache %s)",
    async (cached) => {
      // Coalescing off: its object briefly keeps a complete response for late arrivals, which
      // would answer the later requests without the origin (that is coalescing, not storing).
      const brim = testBrim({ acme: [{ path: "/*", cache: cached ? { coalesce: false } : false }] });
      const path = uniquePath();
      await script(path, [{ raw: { head: encodedHead("gzip, x-custom"), parts: ["abcdef"], end: "fin" } }]);
      const refused = await brim.fetch(path, { headers: { "accept-encoding": "gzip" } });
      expect(refused.status).toBe(502);
      expect(await refused.text()).toBe("Bad Gateway: the origin's content coding is not acceptable\n");
      const accepted = await brim.fetch(path, { headers: { "accept-encoding": "gzip, x-custom" } });
      expect(accepted.status).toBe(200);
      expect(accepted.headers.get("content-encoding")).toBe("gzip, x-custom");
      const again = await brim.fetch(path, { headers: { "accept-encoding": "gzip, x-custom" } });
      expect(again.headers.get("cache-status")).not.toMatch(/hit/);
      expect(await count(path)).toBe(3);
    },
  );

  it("stacked known codings are decoded for a client that accepts neither, and stored as identity", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: {}, compression: false }] });
    const path = uniquePath();
    await script(path, [
      { headers: { "cache-control": "max-age=600", "content-type": "text/plain" }, body: "stacked body", gzip: true, zstd: true },
    ]);
    const res = await brim.fetch(path, { headers: { "accept-encoding": "identity" } });
    expect(res.headers.get("content-encoding")).toBeNull();
    expect(await res.text()).toBe("stacked body");
    const hit = await brim.fetch(path, { headers: { "accept-encoding": "identity" } });
    expect(hit.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(await hit.text()).toBe("stacked body");
  });

  it("a stored gzip entry on a route that does not compress loses its Content-Encoding for a client without gzip", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: {}, compression: false }] });
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=600", "content-type": "text/plain" }, body: "zipped", gzip: true }]);
    const gzipClient = await brim.fetch(path, { headers: { "accept-encoding": "gzip" } });
    expect(gzipClient.headers.get("content-encoding")).toBe("gzip");
    const plainClient = await brim.fetch(path, { headers: { "accept-encoding": "identity" } });
    expect(plainClient.headers.get("cache-status")).toMatch(/^Brim; hit/);
    expect(plainClient.headers.get("content-encoding")).toBeNull();
    expect(await plainClient.text()).toBe("zipped");
  });
});

describe("an answer that does not fit the request is an origin error", () => {
  it.each([true, false])("a 304 to Brim's unconditional request is 502 and nothing is stored (coalesce %s)", async (coalesce) => {
    const brim = testBrim({ acme: [{ path: "/*", cache: { coalesce } }] });
    const path = uniquePath();
    await script(path, [
      { raw: { head: `HTTP/1.1 304 Not Modified\r\netag: "x"\r\ncache-control: max-age=600\r\n${CLOSE}\r\n`, end: "fin" } },
      GOOD,
    ]);
    const first = await brim.fetch(path);
    expect(first.status).toBe(502);
    expect(await first.text()).toBe("Bad Gateway: the origin sent an invalid response\n");
    expect(first.headers.get("cache-status")).toContain("detail=origin-invalid-response");
    const second = await brim.fetch(path);
    expect(await second.text()).toBe("complete body 2");
  });

  it("a response with more header fields than the limit is not stored", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: {} }] });
    const path = uniquePath();
    const many = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`x-field-${i}`, "v"]));
    await script(path, [{ headers: { "cache-control": "max-age=600", ...many }, body: "b{count}" }]);
    const first = await brim.fetch(path);
    expect(first.headers.get("cache-status")).toContain("detail=not-stored-headers-too-large");
    expect(await (await brim.fetch(path)).text()).toBe("b2");
  });
});

describe("no-cache forbids serving stale (RFC 9111 §4.2.4)", () => {
  it.each([
    ["an origin 500", { status: 500, body: "broken" }, 500],
    ["an unreachable origin", { reset: true as const }, 502],
  ])("an entry stored with no-cache and stale-if-error is not served on %s", async (_, failure, status) => {
    const brim = testBrim({ acme: [{ path: "/*", cache: {} }] });
    const path = uniquePath();
    await script(path, [
      {
        headers: { "cache-control": "no-cache, max-age=600, stale-if-error=600, stale-while-revalidate=600", etag: '"v1"' },
        body: "stored",
      },
      failure,
    ]);
    expect(await (await brim.fetch(path)).text()).toBe("stored");
    const res = await brim.fetch(path);
    expect(res.status).toBe(status);
    expect(await res.text()).not.toBe("stored");
  });
});

describe("Brim's own faults", () => {
  it("an unhandled error is a 500 INTERNAL, logged with its stack, never stored", async () => {
    const brim = testBrim({ acme: [{ path: "/*", cache: {} }] }, { cache: () => Promise.reject(new Error("cache exploded")) });
    const res = await brim.fetch(uniquePath());
    expect(res.status).toBe(500);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toBe("Internal Server Error\n");
    const logged = brim.logs.find((log) => log.event === "internal-error");
    expect(logged?.detail).toContain("cache exploded");
    expect(String(logged?.stack)).toContain("Error: cache exploded");
  });

  it.each(["CONNECT", "TRACE", "TRACK"])("%s is 501 Not Implemented, never a runtime error", async (method) => {
    const brim = testBrim({ acme: [{ path: "/*", cache: {} }] });
    // workerd refuses to build a Request with these methods ("Invalid HTTP method string"), so
    // the test hands Hono a stand-in that only differs in `method`: what an edge could deliver.
    const path = uniquePath();
    const base = new Request(`http://acme.test${path}`, { headers: { host: "acme.test" } });
    const request = new Proxy(base, { get: (target, name) => (name === "method" ? method : Reflect.get(target, name, target)) });
    const res = await brim.app.fetch(request, env, createExecutionContext());
    expect(res.status).toBe(501);
    expect(await res.text()).toBe("Not Implemented: this method is not supported\n");
    expect(await count(path)).toBe(0);
  });
});
