/**
 * Baseline: Hono's own `hono/cache` middleware (the Cache API, no SWR, no coalescing) in front
 * of the bench origin, on the same workerd as Brim.
 */
import { Hono } from "hono";
import { cache } from "hono/cache";

interface Bindings {
  /** The bench origin, e.g. http://127.0.0.1:9000, from `--var ORIGIN:<url>`. */
  ORIGIN: string;
}

const app = new Hono<{ Bindings: Bindings }>();

// cacheControl only adds directives the origin did not send; the bench origin always sends max-age.
app.get("*", cache({ cacheName: "bench-hono-cache", cacheControl: "public, max-age=60" }));
app.get("*", async function proxy(c) {
  const url = new URL(c.req.url);
  const upstream = await fetch(`${c.env.ORIGIN}${url.pathname}${url.search}`);
  // A fetched Response has immutable headers; the middleware needs to set Cache-Control.
  return new Response(upstream.body, upstream);
});

export default app;
