import type { StoredEntry } from "../cache/store";
import { responseFromEntry } from "../cache/serve";
import type { RequestOutcome } from "../env";
import { appendCacheStatus, type CacheStatus } from "../http/cache-status";
import type { CacheRequest } from "./context";
import { rangeOfEntry } from "./range";

/** Sets the response's Cache-Status and records it as the request's outcome (set once, last wins). */
export function tag(outcome: RequestOutcome, headers: Headers, status: CacheStatus): void {
  outcome.cache = status;
  appendCacheStatus(headers, status);
}

/**
 * `responseFromEntry` (src/cache/serve.ts), recording the Cache-Status it sends; a Range
 * request gets its part of it (src/pipeline/range.ts).
 */
export function served(
  req: Pick<CacheRequest, "outcome" | "request">,
  entry: StoredEntry,
  status: CacheStatus,
  nowMs: number,
  headers?: Headers,
): Response {
  req.outcome.cache = status;
  const response = headers ? responseFromEntry(entry, status, nowMs, headers) : responseFromEntry(entry, status, nowMs);
  return rangeOfEntry(req.request, response, entry);
}
