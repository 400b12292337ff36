/** The runtime's own floor: the static-body Worker (bench/workers/static/) through Miniflare, no wrangler dev proxy. */
import { join } from "node:path";
import { BENCH_DIR } from "../lib/paths";
import { freePort } from "../lib/procs";
import { workerdVersionText } from "./wrangler";
import { bundleBenchWorker, startMiniflare } from "./miniflare";
import type { TargetDef } from "./types";

export const staticMiniflare: TargetDef = {
  id: "static-mf",
  label: "static Worker (floor), Miniflare",
  packages: [],
  async start(context) {
    const script = await bundleBenchWorker(context, "static");
    const port = await freePort();
    const config = join(BENCH_DIR, "workers", "static", "wrangler.toml");
    const instance = await startMiniflare(
      context,
      "static-mf",
      { workers: [{ name: "static", config, script, port, vars: {} }] },
      { path: "/" },
    );
    return {
      id: "static-mf",
      label: "static Worker (floor), Miniflare",
      reference: true,
      worker: true,
      runtime: "Miniflare",
      port,
      host: `127.0.0.1:${port}`,
      version: workerdVersionText(),
      notes: ["the same static Worker through Miniflare's API, straight into workerd (no wrangler dev proxy): the runtime's floor"],
      cpuPids: instance.cpuPids,
      stop: instance.stop,
    };
  },
};
