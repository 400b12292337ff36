/** hono/cache in front of the bench origin, under wrangler dev (bench/workers/hono-cache/). */
import { join } from "node:path";
import { BENCH_DIR } from "../lib/paths";
import { startWorker } from "./wrangler";
import type { TargetDef } from "./types";

export const honoCache: TargetDef = {
  id: "hono-cache",
  label: "hono/cache Worker",
  packages: [],
  start: (context) =>
    startWorker(context, {
      id: "hono-cache",
      label: "hono/cache Worker",
      reference: false,
      config: join(BENCH_DIR, "workers", "hono-cache", "wrangler.toml"),
      vars: { ORIGIN: context.origin.url },
      notes: [
        '`cache({ cacheName, cacheControl: "public, max-age=60" })` + `fetch` to the origin; Cache API, no coalescing',
        "the local Cache API keeps an entry for max-age + stale-while-revalidate and returns it as a fresh HIT without revalidating, so its SWR row shows no origin fetch and no wait while serving a stale copy",
      ],
      readyPath: "/",
    }),
};
