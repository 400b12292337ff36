/**
 * Per-route counters (pure): what one isolate adds up between flushes and what the tenant's
 * `StatsLog` keeps. Latencies go into fixed log-spaced buckets so batches add up exactly and
 * percentiles need no samples.
 */

import type { Costs, ObjectKind } from "../meter";
import { CACHE_OUTCOMES, COALESCE_FALLBACK, STATUS_CLASSES, statusClassOf, type CacheOutcome } from "./outcome";

/** Upper bounds (ms) of the latency buckets; the last bucket is everything above. */
export const LATENCY_BUCKETS_MS: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000];

export interface RouteCounters {
  requests: number;
  /** Served from the cache, fresh or stale. */
  hits: number;
  /** Served stale (stale-while-revalidate, stale-if-error, max-stale, soft purge). */
  staleServed: number;
  /** Answered by another request's origin fetch (RFC 9211 `collapsed`). */
  collapsed: number;
  /** Requests that made an origin fetch of their own. */
  originFetches: number;
  /** Counts per LATENCY_BUCKETS_MS bucket (length + 1) of origin-forwarded requests. */
  originLatency: number[];
  /** Auth failures by reason (src/auth/failure.ts). */
  authRejections: Record<string, number>;
  /** Identity bytes − bytes sent, over responses Brim compressed (identity length known). */
  compressionBytesSaved: number;
  /**
   * Origin failures by stable event name: body faults (`origin-body-incomplete`,
   * `origin-body-idle-timeout`, `decode-limit-exceeded`, `origin-body-undecodable`) and
   * `origin-error:<CODE>` for failures before the body; `internal-error` for Brim's own bugs.
   */
  errors: Record<string, number>;
  /** Platform costs of the requests (src/meter.ts), with the background work they started. */
  cacheReads: number;
  cacheWrites: number;
  memoryHits: number;
  /** Durable Object calls by class (`ObjectKind`). */
  objectCalls: Record<string, number>;
  /** Responses by status class (`2xx`, …; src/stats/outcome.ts). */
  statusClasses: Record<string, number>;
  /** Responses by Cache-Status outcome (`CacheOutcome`). */
  cacheOutcomes: Record<string, number>;
  /** Response body bytes sent to clients (after compression: what went on the wire from Brim). */
  bytesServed: number;
}

/** Object classes always shown (zeros included), in this order. */
export const OBJECT_KINDS: readonly ObjectKind[] = ["coalescer", "purge", "revocation", "stats", "config"];

/** What the cache outcome alone says about one request (src/stats/middleware.ts `classify`). */
export interface CacheSample {
  readonly hit: boolean;
  readonly stale: boolean;
  readonly collapsed: boolean;
  /** Milliseconds to the origin's response headers; null when no origin fetch of its own. */
  readonly originMs: number | null;
}

/** What one request contributes. */
export interface RequestSample extends CacheSample {
  /** The HTTP status sent. */
  readonly status: number;
  readonly outcome: CacheOutcome;
  /** Body bytes known when the response left (Content-Length; 0 without a body); null: counted as the body streams. */
  readonly bytes: number | null;
  /** The Coalescer could not be reached (Cache-Status detail `coalesce-unavailable`). */
  readonly coalesceFallback: boolean;
}

export function emptyCounters(): RouteCounters {
  return {
    requests: 0,
    hits: 0,
    staleServed: 0,
    collapsed: 0,
    originFetches: 0,
    originLatency: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0),
    authRejections: {},
    compressionBytesSaved: 0,
    errors: {},
    cacheReads: 0,
    cacheWrites: 0,
    memoryHits: 0,
    objectCalls: {},
    statusClasses: {},
    cacheOutcomes: {},
    bytesServed: 0,
  };
}

/** Adds one request's costs (at flush time, so its finished background work is in them). */
export function addCosts(into: RouteCounters, costs: Costs): void {
  into.cacheReads += costs.cacheReads;
  into.cacheWrites += costs.cacheWrites;
  into.memoryHits += costs.memoryHits;
  for (const [kind, n] of Object.entries(costs.objectCalls)) if (n > 0) into.objectCalls[kind] = (into.objectCalls[kind] ?? 0) + n;
}

export function addSample(into: RouteCounters, sample: RequestSample): void {
  into.requests += 1;
  if (sample.hit) into.hits += 1;
  if (sample.stale) into.staleServed += 1;
  if (sample.collapsed) into.collapsed += 1;
  if (sample.originMs !== null) {
    into.originFetches += 1;
    const index = bucketOf(sample.originMs);
    into.originLatency[index] = (into.originLatency[index] ?? 0) + 1;
  }
  const statusClass = statusClassOf(sample.status);
  into.statusClasses[statusClass] = (into.statusClasses[statusClass] ?? 0) + 1;
  into.cacheOutcomes[sample.outcome] = (into.cacheOutcomes[sample.outcome] ?? 0) + 1;
  if (sample.bytes !== null) into.bytesServed += sample.bytes;
  if (sample.coalesceFallback) into.errors[COALESCE_FALLBACK] = (into.errors[COALESCE_FALLBACK] ?? 0) + 1;
}

export function addCounters(into: RouteCounters, from: RouteCounters): void {
  into.requests += from.requests;
  into.hits += from.hits;
  into.staleServed += from.staleServed;
  into.collapsed += from.collapsed;
  into.originFetches += from.originFetches;
  for (let i = 0; i < into.originLatency.length; i++) into.originLatency[i] = (into.originLatency[i] ?? 0) + (from.originLatency[i] ?? 0);
  into.compressionBytesSaved += from.compressionBytesSaved ?? 0;
  for (const [reason, n] of Object.entries(from.authRejections)) into.authRejections[reason] = (into.authRejections[reason] ?? 0) + n;
  into.errors ??= {};
  for (const [kind, n] of Object.entries(from.errors ?? {})) into.errors[kind] = (into.errors[kind] ?? 0) + n;
  // Counters stored before cost accounting have none of these: they count as 0.
  into.cacheReads = (into.cacheReads ?? 0) + (from.cacheReads ?? 0);
  into.cacheWrites = (into.cacheWrites ?? 0) + (from.cacheWrites ?? 0);
  into.memoryHits = (into.memoryHits ?? 0) + (from.memoryHits ?? 0);
  into.objectCalls ??= {};
  for (const [kind, n] of Object.entries(from.objectCalls ?? {})) into.objectCalls[kind] = (into.objectCalls[kind] ?? 0) + n;
  // Counters stored before status, outcome and byte counting have none of these either.
  into.statusClasses ??= {};
  for (const [k, n] of Object.entries(from.statusClasses ?? {})) into.statusClasses[k] = (into.statusClasses[k] ?? 0) + n;
  into.cacheOutcomes ??= {};
  for (const [k, n] of Object.entries(from.cacheOutcomes ?? {})) into.cacheOutcomes[k] = (into.cacheOutcomes[k] ?? 0) + n;
  into.bytesServed = (into.bytesServed ?? 0) + (from.bytesServed ?? 0);
}

function bucketOf(ms: number): number {
  for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) if (ms <= (LATENCY_BUCKETS_MS[i] as number)) return i;
  return LATENCY_BUCKETS_MS.length;
}

/** The bucket upper bound (ms) at quantile `q`; null without samples. Over the last bound: Infinity. */
export function percentileMs(histogram: readonly number[], q: number): number | null {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= rank) return LATENCY_BUCKETS_MS[i] ?? Number.POSITIVE_INFINITY;
  }
  return Number.POSITIVE_INFINITY;
}

/** The JSON view of one route's counters. */
export interface RouteReport {
  readonly requests: number;
  readonly hits: number;
  readonly hitRatio: number | null;
  readonly staleServed: number;
  readonly collapsed: number;
  readonly originFetches: number;
  readonly originLatencyMs: {
    readonly p50: number | string | null;
    readonly p99: number | string | null;
    readonly buckets: readonly number[];
    readonly counts: readonly number[];
  };
  readonly authRejections: Readonly<Record<string, number>>;
  readonly compressionBytesSaved: number;
  readonly errors: Readonly<Record<string, number>>;
  /** Every error kind and auth failure added up. */
  readonly errorsTotal: number;
  readonly costs: CostReport;
  /** Every class listed (zeros included). */
  readonly statusClasses: Readonly<Record<string, number>>;
  /** Every `CacheOutcome` listed (zeros included). */
  readonly cacheOutcomes: Readonly<Record<string, number>>;
  readonly bytesServed: number;
}

/** What the requests cost on the platform (src/meter.ts). */
export interface CostReport {
  /** Durable Object calls by class, every class listed. */
  readonly objectCalls: Readonly<Record<string, number>>;
  readonly objectCallsTotal: number;
  /** objectCallsTotal × 1000 / requests, two decimals; null without requests. */
  readonly objectCallsPer1000Requests: number | null;
  readonly cacheReads: number;
  readonly cacheWrites: number;
  readonly memoryHits: number;
  /** Requests that made an origin fetch of their own (as `originFetches`). */
  readonly originFetches: number;
}

export function costReport(counters: RouteCounters): CostReport {
  const objectCalls: Record<string, number> = {};
  for (const kind of OBJECT_KINDS) objectCalls[kind] = counters.objectCalls?.[kind] ?? 0;
  for (const [kind, n] of Object.entries(counters.objectCalls ?? {})) objectCalls[kind] = n;
  const total = Object.values(objectCalls).reduce((a, b) => a + b, 0);
  return {
    objectCalls,
    objectCallsTotal: total,
    objectCallsPer1000Requests: counters.requests === 0 ? null : Math.round((total * 1000 * 100) / counters.requests) / 100,
    cacheReads: counters.cacheReads ?? 0,
    cacheWrites: counters.cacheWrites ?? 0,
    memoryHits: counters.memoryHits ?? 0,
    originFetches: counters.originFetches,
  };
}

export function report(counters: RouteCounters): RouteReport {
  const p99 = percentileMs(counters.originLatency, 0.99);
  const p50 = percentileMs(counters.originLatency, 0.5);
  return {
    requests: counters.requests,
    hits: counters.hits,
    hitRatio: counters.requests === 0 ? null : counters.hits / counters.requests,
    staleServed: counters.staleServed,
    collapsed: counters.collapsed,
    originFetches: counters.originFetches,
    // Bucket upper bounds; "> 60000" would be Infinity, which JSON cannot carry.
    originLatencyMs: {
      p50: p50 === Number.POSITIVE_INFINITY ? "> 60000" : p50,
      p99: p99 === Number.POSITIVE_INFINITY ? "> 60000" : p99,
      buckets: LATENCY_BUCKETS_MS,
      counts: counters.originLatency,
    },
    authRejections: counters.authRejections,
    compressionBytesSaved: counters.compressionBytesSaved ?? 0,
    errors: counters.errors ?? {},
    errorsTotal: sum(counters.errors) + sum(counters.authRejections),
    costs: costReport(counters),
    statusClasses: listed(STATUS_CLASSES, counters.statusClasses),
    cacheOutcomes: listed(CACHE_OUTCOMES, counters.cacheOutcomes),
    bytesServed: counters.bytesServed ?? 0,
  };
}

function sum(counts: Readonly<Record<string, number>> | undefined): number {
  return Object.values(counts ?? {}).reduce((a, b) => a + b, 0);
}

/** `keys` in order with 0 for the missing, then any other key counted. */
function listed(keys: readonly string[], counts: Readonly<Record<string, number>> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of keys) out[key] = counts?.[key] ?? 0;
  for (const [key, n] of Object.entries(counts ?? {})) out[key] = n;
  return out;
}
