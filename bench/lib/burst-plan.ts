/** What the burst client (a separate process) is asked to do, and what it reports. */
import type { CostCounts } from "./costs";

export type BurstStep =
  /** One request, awaited; `mark` remembers when its answer arrived (for `sleep.sinceMark`). */
  | { kind: "get"; path: string; mark?: boolean }
  /** Wait `ms`, or until `ms` after the last mark. */
  | { kind: "sleep"; ms: number; sinceMark?: boolean }
  /** Open `connections` keep-alive sockets by sending that many concurrent requests to `path`. */
  | { kind: "open"; path: string }
  /** Write `connections` requests for `path` at once on the open sockets; count origin fetches until `settleMs` after the last answer. */
  | { kind: "burst"; label: string; path: string; settleMs: number };

export interface BurstPlan {
  port: number;
  /**
   * Several edges taking the same Host (two-edge scenario): request i of a burst or an `open` goes to
   * `ports[i % ports.length]`, so each edge gets its share of every burst. Default: [port].
   */
  ports?: number[];
  host: string;
  connections: number;
  /** The bench origin's base URL, for its request counts around each burst. */
  originUrl: string;
  /** Bound on each request. */
  requestTimeoutMs: number;
  headers?: Record<string, string>;
  /** Read the target's cost counters (Brim's `/__brim/stats`) just before each burst and after its settle time. */
  costs?: { host: string; adminToken: string };
  steps: BurstStep[];
}

export interface Sample {
  status: number;
  /** From writing the request to the last byte of the response. */
  ms: number;
  /** The response's Cache-Status (or X-Cache) header, "" if none. */
  cacheStatus: string;
  /** Index into `ports` of the edge that answered. */
  edge: number;
  error?: string;
}

export interface BurstOutcome {
  label: string;
  path: string;
  /** Sockets already open when the burst was written; `connections` when all were. */
  preopened: number;
  samples: Sample[];
  /** Requests that reached the origin for `path` during the burst and the settle time. */
  originRequests: number;
  originNotModified: number;
  /** With `plan.costs`: the counters before the burst and after its settle time. */
  costsBefore?: CostCounts;
  costsAfter?: CostCounts;
}

export interface BurstReport {
  gets: Sample[];
  bursts: BurstOutcome[];
}
