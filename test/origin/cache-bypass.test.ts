import { describe, expect, it } from "vitest";
import { fetchOrigin } from "../../src/http/fetch";
import { count, originUrl, requests, script, uniquePath } from "../support/origin";
import { testBrim } from "../support/brim";

/** A fetcher that records the init of every origin fetch, then really fetches. */
function recording(): { inits: (RequestInit | undefined)[]; fetcher: (request: Request, init?: RequestInit) => Promise<Response> } {
  const inits: (RequestInit | undefined)[] = [];
  return {
    inits,
    fetcher: (request, init) => {
      inits.push(init);
      return fetch(request, init);
    },
  };
}

// On Cloudflare a Worker's fetch reads through the zone's cache unless told not to; Brim's purge
// does not reach that cache, so every origin fetch says `cache: "no-store"` (docs/caching.md).
describe('origin fetches bypass the platform cache (cache: "no-store")', () => {
  it("fetchOrigin (used by the Worker and by the global Coalescer) always passes it", async () => {
    const path = uniquePath();
    await script(path, [{ headers: { "cache-control": "max-age=60" }, body: "x" }]);
    const { inits, fetcher } = recording();
    const fetched = await fetchOrigin(fetcher, new Request(`${originUrl()}${path}`), { timeoutMs: 5000, bodyIdleTimeoutMs: 5000 });
    expect(fetched.ok).toBe(true);
    if (fetched.ok) await fetched.response.text();
    expect(inits).toHaveLength(1);
    expect(inits[0]?.cache).toBe("no-store");
  });

  it("a cached route's misses and a pass-through route's requests each reach the origin with it", async () => {
    const { inits, fetcher } = recording();
    const brim = testBrim(
      {
        acme: [
          { path: "/pass/*", cache: false },
          { path: "/*", cache: { coalesce: false } },
        ],
      },
      { fetcher },
    );
    const cached = uniquePath();
    const passed = uniquePath("/pass/t");
    await script(cached, [{ headers: { "cache-control": "max-age=1" }, body: "c{count}" }]);
    await script(passed, [{ headers: { "cache-control": "max-age=60" }, body: "p{count}" }]);
    expect(await (await brim.fetch(cached)).text()).toBe("c1");
    brim.clock.advance(5);
    expect(await (await brim.fetch(cached)).text()).toBe("c2");
    expect(await (await brim.fetch(passed, { method: "POST", body: "b" })).text()).toBe("p1");
    expect(await (await brim.fetch(passed)).text()).toBe("p2");
    expect(await count(cached)).toBe(2);
    expect(await count(passed)).toBe(2);
    expect(inits).toHaveLength(4);
    for (const init of inits) expect(init?.cache).toBe("no-store");
    // The runtime honours it as the Fetch standard says: the origin sees `no-cache` request fields.
    for (const path of [cached, passed])
      for (const seen of (await requests(path)).requests) {
        expect(seen.headers["cache-control"]).toBe("no-cache");
        expect(seen.headers["pragma"]).toBe("no-cache");
      }
  });
});
