/** What the burst client (a separate process) is asked to do, and what it reports. */

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
  host: string;
  connections: number;
  /** The bench origin's base URL, for its request counts around each burst. */
  originUrl: string;
  /** Bound on each request. */
  requestTimeoutMs: number;
  headers?: Record<string, string>;
  steps: BurstStep[];
}

export interface Sample {
  status: number;
  /** From writing the request to the last byte of the response. */
  ms: number;
  /** The response's Cache-Status (or X-Cache) header, "" if none. */
  cacheStatus: string;
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
}

export interface BurstReport {
  gets: Sample[];
  bursts: BurstOutcome[];
}
