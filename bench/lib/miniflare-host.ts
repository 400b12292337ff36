/**
 * Runs Workers in workerd through Miniflare's API, without `wrangler dev`'s proxy Worker in front:
 * `tsx bench/lib/miniflare-host.ts '<MiniflarePlan JSON>'`, as its own process (group) so the bench
 * stops it like any other service. Each Worker gets a socket of its own (`unsafeDirectSockets`),
 * so a request goes from the client straight to the Worker: not through Miniflare's entry Worker
 * either (which would add `request.cf` and a hop). Bindings come from the Worker's wrangler config
 * (`unstable_getMiniflareWorkerOptions`, what wrangler itself hands Miniflare), so the bench does
 * not keep a second copy of them. Prints `{"ready":true}` once every socket answers; ends on SIGTERM.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import type { MiniflarePlan } from "./miniflare-plan";

/** wrangler's default module rules (.map files and the README it writes are left out). */
const MODULE_TYPES: readonly (readonly [RegExp, string])[] = [
  [/\.m?js$/, "ESModule"],
  [/\.wasm$/, "CompiledWasm"],
  [/\.(txt|html|sql)$/, "Text"],
  [/\.bin$/, "Data"],
];

const plan = JSON.parse(process.argv[2] ?? "{}") as MiniflarePlan;

const workers = plan.workers.map((worker) => {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(worker.config);
  const options = workerOptions as Record<string, unknown> & { durableObjects?: Record<string, string | { className: string }> };
  // Durable Objects owned by another Worker of this instance: bound by script name, so both see the same objects.
  const durableObjects = worker.durableObjectsFrom
    ? Object.fromEntries(
        Object.entries(options.durableObjects ?? {}).map(([binding, spec]) => [
          binding,
          { className: typeof spec === "string" ? spec : spec.className, scriptName: worker.durableObjectsFrom },
        ]),
      )
    : options.durableObjects;
  // Every module wrangler wrote beside the entry (the zstd .wasm, ...), listed: Miniflare 5 takes no module rules.
  const { modulesRules: _rules, ...rest } = options;
  return {
    ...rest,
    name: worker.name,
    modules: bundleModules(worker.script),
    modulesRoot: dirname(worker.script),
    durableObjects,
    bindings: { ...(options.bindings as Record<string, unknown> | undefined), ...worker.vars },
    unsafeDirectSockets: [{ host: "127.0.0.1", port: worker.port }],
  };
});

/** The entry first, then its other modules by extension, as wrangler's own module rules type them. */
function bundleModules(script: string): { type: string; path: string }[] {
  const dir = dirname(script);
  const others = readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((path) => path !== script)
    .flatMap((path) => {
      const type = MODULE_TYPES.find(([pattern]) => pattern.test(path))?.[1];
      return type ? [{ type, path }] : [];
    });
  return [{ type: "ESModule", path: script }, ...others];
}

// Miniflare's own entry socket (port 0: any free one) is unused; the bench talks to the direct sockets.
const mf = new Miniflare(
  convertV4MiniflareOptions({ host: "127.0.0.1", port: 0, workers } as Parameters<typeof convertV4MiniflareOptions>[0]),
);
await mf.ready;
console.log(JSON.stringify({ ready: true }));

const stop = () => void mf.dispose().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
