/** Every target, in the order of the report. */
import { brim } from "./brim";
import { brimMiniflare } from "./brim-miniflare";
import { honoCache } from "./hono-cache";
import { honoCacheMiniflare } from "./hono-cache-miniflare";
import { nginx } from "./nginx";
import { staticMiniflare } from "./static-miniflare";
import { staticWorker } from "./static-worker";
import type { TargetDef } from "./types";
import { varnish } from "./varnish";

export const TARGETS: readonly TargetDef[] = [
  brim,
  honoCache,
  staticWorker,
  brimMiniflare,
  honoCacheMiniflare,
  staticMiniflare,
  nginx,
  varnish,
];
