/**
 * Brim through Miniflare's API (no wrangler dev proxy), as two edges in one workerd: two data
 * centers with separate Cache API caches that share the Durable Objects.
 *
 * - Edge A (`port`): the same bundle the `brim` target runs (src/index.ts: `caches.default`, the
 *   data center from `request.cf.colo`, "" here). Every scenario measures this edge; it defines the
 *   Durable Object classes.
 * - Edge B: bench/workers/brim-edge/ (src/index.ts's wiring with `colo: "edge-b"` and its own cache
 *   `caches.open("edge-b")`), its Durable Object bindings pointing at edge A's classes
 *   (`scriptName`), and the same KV namespace, so it reads the same tenant config. Only the two-edge
 *   scenario uses it.
 *
 * Both take the bench tenant's Host (edge A's address). Config is pushed through edge A's platform API.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readBrimCosts } from "../lib/costs";
import { freePort } from "../lib/procs";
import { BRIM_PROBE_HOST, brimBundle, brimNotes, brimSecrets, pushBenchTenants } from "./brim";
import { bundleWorker } from "./bundle";
import { startMiniflare } from "./miniflare";
import type { TargetDef } from "./types";
import { workerdVersionText } from "./wrangler";

/** Edge B's data center name and Cache API cache name. */
export const SECOND_EDGE_COLO = "edge-b";

export const brimMiniflare: TargetDef = {
  id: "brim-mf",
  label: "Brim, Miniflare",
  packages: [],
  async start(context) {
    const bundle = await brimBundle(context);
    const config = join(bundle.source, "wrangler.toml");
    // Edge B: the root config (same bindings) with the edge entry as `main`, bundled the same way.
    const edgeConfig = join(context.tmp, "brim-edge-wrangler.toml");
    const edgeMain = join(bundle.source, "bench", "workers", "brim-edge", "index.ts");
    writeFileSync(edgeConfig, readFileSync(config, "utf8").replace(/^main\s*=.*$/m, `main = ${JSON.stringify(edgeMain)}`));
    const edgeScript = await bundleWorker("brim-edge", bundle.source, edgeConfig, join(context.tmp, "brim-edge-bundle"));
    const port = await freePort();
    const edgePort = await freePort();
    const host = `127.0.0.1:${port}`;
    const secrets = brimSecrets();
    const instance = await startMiniflare(
      context,
      "brim-mf",
      {
        workers: [
          { name: "brim", config, script: bundle.script, port, vars: secrets.vars },
          {
            name: "brim-edge-b",
            config: edgeConfig,
            script: edgeScript,
            port: edgePort,
            vars: { ...secrets.vars, EDGE_COLO: SECOND_EDGE_COLO, EDGE_CACHE: SECOND_EDGE_COLO },
            durableObjectsFrom: "brim",
          },
        ],
      },
      { path: "/", host: BRIM_PROBE_HOST },
    );
    try {
      await pushBenchTenants(context, host, port, secrets.platformToken);
    } catch (error) {
      await instance.stop();
      throw error;
    }
    return {
      id: "brim-mf",
      label: "Brim, Miniflare",
      reference: false,
      worker: true,
      runtime: "Miniflare",
      port,
      host,
      edges: [port, edgePort],
      version: workerdVersionText(),
      notes: [
        "the same Brim bundle through Miniflare's API, straight into workerd (no wrangler dev proxy); Durable Objects in memory",
        `two-edge scenario: a second edge (bench/workers/brim-edge/: colo "${SECOND_EDGE_COLO}", its own cache) in the same workerd, sharing the Durable Objects and KV`,
        ...brimNotes(context, port),
      ],
      cpuPids: instance.cpuPids,
      costs: () => readBrimCosts(host, secrets.adminToken),
      costSource: { host, adminToken: secrets.adminToken },
      stop: instance.stop,
    };
  },
};
