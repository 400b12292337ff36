/** A throughput run: `connections` keep-alive connections for `durationMs`, cycling through `paths`. */
export interface LoadSpec {
  port: number;
  host: string;
  connections: number;
  durationMs: number;
  /** One path (hot key) or many (cycled in order, so each is requested once per pass). */
  paths: readonly string[];
  headers?: Record<string, string>;
  /** One header whose value changes per request, cycling through `values` (e.g. a fresh token each time). */
  rotateHeader?: { readonly name: string; readonly values: readonly string[] };
}

export interface LoadResult {
  tool: string;
  requests: number;
  durationMs: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses with a status outside 2xx/3xx. */
  badStatus: number;
  /** Connection errors and timeouts. */
  errors: number;
}

export interface LoadTool {
  readonly name: string;
  readonly version: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}

/** Slack on top of a run's duration before its process is killed. */
export const LOAD_KILL_SLACK_MS = 20_000;
/** Per-request timeout inside a load run. */
export const LOAD_REQUEST_TIMEOUT_S = 10;
