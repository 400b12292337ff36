import type { StoredEntry } from "../cache/store";
import { responseFromEntry } from "../cache/serve";
import type { RequestOutcome } from "../env";
import { appendCacheStatus, type CacheStatus } from "../http/cache-status";

/** Sets the response's Cache-Status and records it as the request's outcome (set once, last wins). */
export function tag(outcome: RequestOutcome, headers: Headers, status: CacheStatus): void {
  outcome.cache = status;
  appendCacheStatus(headers, status);
}

/** `responseFromEntry` (src/cache/serve.ts), recording the Cache-Status it sends. */
export function served(outcome: RequestOutcome, entry: StoredEntry, status: CacheStatus, nowMs: number, headers?: Headers): Response {
  outcome.cache = status;
  return headers ? responseFromEntry(entry, status, nowMs, headers) : responseFromEntry(entry, status, nowMs);
}
