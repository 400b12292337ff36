/**
 * One Workers Analytics Engine data point per tenant request (no sampling by Brim; Analytics
 * Engine samples on its own at high volume and reports `_sample_interval`, docs/operations.md).
 * Pure: the recorder writes what this returns, when the request's batch closes.
 *
 * Layout (the SQL API names them blob1…, double1…, index1):
 * - index1: tenant id (the sampling key: each tenant is sampled on its own)
 * - blob1 tenant id, blob2 route path, blob3 outcome (`hit` | `stale` | `collapsed` | `origin` | `none`),
 *   blob4 Cache-Status outcome (`CacheOutcome`, src/stats/outcome.ts: `hit`, `stale`, `collapsed`,
 *   `revalidated`, `uri-miss`, `vary-miss`, `miss`, `bypass`, `method`, `request`, `none`),
 *   blob5 status class (`1xx` … `5xx`)
 * - double1 requests (always 1), double2 origin ms (0 without an origin fetch of its own),
 *   double3 Cache API reads, double4 Cache API writes, double5 memory-tier hits,
 *   double6…double10 Durable Object calls: coalescer, purge, revocation, stats, config,
 *   double11 HTTP status, double12 body bytes by Content-Length (0 for a streamed body, whose
 *   size is known only once sent; the StatsLog counts those), double13 coalescing fallback (0 or 1)
 * New fields are appended, so queries written for the earlier layout keep working.
 */
import type { Costs } from "../meter";
import type { CacheSample, RequestSample } from "./counters";
import { statusClassOf } from "./outcome";

/** What the recorder needs of an `AnalyticsEngineDataset` binding (so tests can wrap the real one). */
export interface AnalyticsWriter {
  writeDataPoint(point: AnalyticsEngineDataPoint): void;
}

/** Index values are capped at 96 bytes by Analytics Engine; tenant ids are far shorter. */
const MAX_INDEX_CHARS = 96;
/** Blobs share a 16 KB budget per point; a route path longer than this is cut. */
const MAX_ROUTE_CHARS = 1_024;

export type Outcome = "hit" | "stale" | "collapsed" | "origin" | "none";

export function outcomeOf(sample: CacheSample): Outcome {
  if (sample.stale) return "stale";
  if (sample.hit) return "hit";
  if (sample.collapsed) return "collapsed";
  return sample.originMs !== null ? "origin" : "none";
}

export function dataPoint(tenantId: string, route: string, sample: RequestSample, costs: Costs): AnalyticsEngineDataPoint {
  const calls = costs.objectCalls;
  return {
    indexes: [tenantId.slice(0, MAX_INDEX_CHARS)],
    blobs: [tenantId, route.slice(0, MAX_ROUTE_CHARS), outcomeOf(sample), sample.outcome, statusClassOf(sample.status)],
    doubles: [
      1,
      sample.originMs ?? 0,
      costs.cacheReads,
      costs.cacheWrites,
      costs.memoryHits,
      calls.coalescer,
      calls.purge,
      calls.revocation,
      calls.stats,
      calls.config,
      sample.status,
      sample.bytes ?? 0,
      sample.coalesceFallback ? 1 : 0,
    ],
  };
}
