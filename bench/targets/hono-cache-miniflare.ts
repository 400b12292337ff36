/** The hono/cache Worker (bench/workers/hono-cache/) through Miniflare, no wrangler dev proxy. */
import { join } from "node:path";
import { BENCH_DIR } from "../lib/paths";
import { freePort } from "../lib/procs";
import { workerdVersionText } from "./wrangler";
import { bundleBenchWorker, startMiniflare } from "./miniflare";
import type { TargetDef } from "./types";

export const honoCacheMiniflare: TargetDef = {
  id: "hono-cache-mf",
  label: "hono/cache Worker, Miniflare",
  packages: [],
  async start(context) {
    const script = await bundleBenchWorker(context, "hono-cache");
    const port = await freePort();
    const config = join(BENCH_DIR, "workers", "hono-cache", "wrangler.toml");
    const vars = { ORIGIN: context.origin.url };
    const instance = await startMiniflare(
      context,
      "hono-cache-mf",
      { workers: [{ name: "hono-cache", config, script, port, vars }] },
      { path: "/" },
    );
    return {
      id: "hono-cache-mf",
      label: "hono/cache Worker, Miniflare",
      reference: false,
      worker: true,
      runtime: "Miniflare",
      port,
      host: `127.0.0.1:${port}`,
      version: workerdVersionText(),
      notes: ["the same hono/cache Worker through Miniflare's API, straight into workerd (no wrangler dev proxy)"],
      cpuPids: instance.cpuPids,
      stop: instance.stop,
    };
  },
};
