/** The runtime floor: a static-body Worker under wrangler dev (bench/workers/static/). */
import { join } from "node:path";
import { BENCH_DIR } from "../lib/paths";
import { startWorker } from "./wrangler";
import type { TargetDef } from "./types";

export const staticWorker: TargetDef = {
  id: "static",
  label: "static Worker (floor)",
  packages: [],
  start: (context) =>
    startWorker(context, {
      id: "static",
      label: "static Worker (floor)",
      reference: true,
      config: join(BENCH_DIR, "workers", "static", "wrangler.toml"),
      vars: {},
      notes: ["returns a 1 KiB static body; no origin, no cache: what wrangler dev + workerd can serve at all"],
      readyPath: "/",
    }),
};
