/**
 * Property: for any path a client sends, the route Brim chooses, the cache key it looks up and
 * the path it forwards are all derived from one canonical string (`TenantResolver.resolvePath`),
 * and ambiguous paths reach neither the origin nor the cache. Runs the real app in workerd with
 * the origin and the Cache API replaced by recorders, so each run costs no network.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createBrim } from "../../src/app";
import { cacheKey } from "../../src/cache/key";
import { canonicalPath, rawPathOf, withPath } from "../../src/http/path";
import { createTenantResolver } from "../../src/tenant/match";
import { loadConfig } from "../../src/tenant/load";

const ROUTES = [
  { path: "/a/*" },
  { path: "/f/*", ambiguousPaths: "forward" },
  { path: "/u/:id", ambiguousPaths: "forward" },
  { path: "/p/*", cache: false },
  { path: "/*" },
].map((route, i) => ({ ...route, origin: `http://r${i}.invalid/base${i}` }));

const config = loadConfig({ tenants: [{ id: "acme", hosts: ["acme.test"], origin: "http://unused.invalid", routes: ROUTES }] });
const tenant = config.tenants[0]!;
const resolver = createTenantResolver();

const PIECES = [
  "a",
  "f",
  "u",
  "p",
  "x",
  "/",
  "//",
  ".",
  "..",
  "/../",
  "/./",
  ";",
  ";v=1",
  "\\",
  "%2e",
  "%2E%2e",
  "%2f",
  "%2F",
  "%5c",
  "%3b",
  "%61",
  "%66",
  "%70",
  "%7E",
  "%25",
  "%2566",
  "%c3%a9",
  "%zz",
  "%0a",
  "~",
  "-",
];
const rawPath = fc.array(fc.constantFrom(...PIECES), { maxLength: 10 }).map((parts) => `/${parts.join("")}`);

/** A Cache that records the keys it is asked for and stores nothing. */
function recordingCache(keys: string[]): Cache {
  const key = (request: RequestInfo | URL) => (typeof request === "string" ? request : request instanceof URL ? request.href : request.url);
  return {
    match: async (request: RequestInfo | URL) => void keys.push(key(request)),
    put: async (request: RequestInfo | URL) => void keys.push(key(request)),
    delete: async () => false,
  } as unknown as Cache;
}

// Hundreds of generated paths, each sent through Brim to the origin: an explicit budget for a busy machine.
describe("one canonical path for route, key and origin URL", { timeout: 30_000 }, () => {
  it("holds for any path", async () => {
    const fetched: string[] = [];
    const keys: string[] = [];
    const app = createBrim({
      config,
      log: () => {},
      fetcher: async (request) => {
        fetched.push(request.url);
        return new Response("ok", { headers: { "cache-control": "max-age=60", "content-type": "application/octet-stream" } });
      },
      cache: async () => recordingCache(keys),
      // Nothing stored anywhere, so every request reaches the cache and the origin: the memory
      // tier (src/cache/memory.ts) would otherwise answer a repeated path itself.
      memoryTier: { maxEntryBytes: 0 },
    });
    await fc.assert(
      fc.asyncProperty(rawPath, async (raw) => {
        fetched.length = 0;
        keys.length = 0;
        const request = new Request(`http://acme.test${raw}`, { headers: { host: "acme.test" } });
        // What the Worker sees is what the URL parser made of it (workerd does the same).
        const seen = rawPathOf(request.url);
        const expected = resolver.resolvePath(tenant, seen);
        const ctx = createExecutionContext();
        const res = await app.fetch(request, env, ctx);
        await res.arrayBuffer();
        await waitOnExecutionContext(ctx);

        if (!expected.ok) {
          expect(res.status).toBe(expected.reason === "no-route" ? 404 : 400);
          expect(fetched).toStrictEqual([]);
          expect(keys).toStrictEqual([]);
          return;
        }
        const { route, path } = expected;
        expect(res.status).toBe(200);
        // The route: the one the canonical string selects; strict routes only take canonical paths.
        expect(resolver.routeFor(tenant, path)).toBe(route);
        if (route.ambiguousPaths !== "forward") expect(canonicalPath(seen)).toStrictEqual({ ok: true, path });
        // The origin URL: the route's origin + exactly that string.
        expect(fetched).toStrictEqual([`${route.origin}${path}`]);
        expect(new URL(fetched[0]!).pathname).toBe(`${new URL(route.origin).pathname}${path}`);
        // The cache key: derived from that string.
        if (route.cache) {
          const key = await cacheKey(tenant.id, new URL(withPath("http://acme.test/", path)), route.cache.key, new Headers());
          expect(keys[0]).toBe(key.url);
        } else {
          expect(keys).toStrictEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });
});
