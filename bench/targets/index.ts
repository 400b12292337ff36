/** Every target, in the order of the report. */
import { brim } from "./brim";
import { honoCache } from "./hono-cache";
import { nginx } from "./nginx";
import { staticWorker } from "./static-worker";
import type { TargetDef } from "./types";
import { varnish } from "./varnish";

export const TARGETS: readonly TargetDef[] = [brim, honoCache, staticWorker, nginx, varnish];
