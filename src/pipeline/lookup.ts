import type { Lookup, StoredEntry } from "../cache/store";
import { decideReuse, type Reuse } from "../http/freshness";
import { meter } from "../meter";
import type { Verdict } from "../purge/rules";
import type { CacheDeps, CacheRequest } from "./context";
import { forThisClient, softPurged } from "./reuse";

/** What the lookup found and what may be done with it. */
export interface Judged {
  readonly entry: StoredEntry | null;
  readonly varyMiss: boolean;
  readonly purged: Verdict;
  /** Not purged hard, and shareable with this request's credentials. */
  readonly usable: boolean;
  /** How it may be reused (RFC 9111 §4.2, RFC 5861, soft purges), when usable. */
  readonly reuse: Reuse | null;
  readonly now: number;
}

/**
 * Step 6: looks the request up (src/cache/store.ts: memory tier, then the Cache API) and judges
 * the entry. A copy from this isolate's memory is used only as a fresh hit; anything else (stale,
 * purged, not for these credentials) reads the Cache API instead, which another isolate may have
 * refreshed, so a revalidation or a stale answer always starts from the shared copy.
 */
export async function lookUp(req: CacheRequest, deps: CacheDeps): Promise<Judged> {
  const store = await deps.store();
  const found = await store.lookup(req.key.url, req.varyHeaders);
  const judged = judge(req, deps, found);
  if (!found.entry?.fromMemory) return judged;
  if (judged.reuse?.kind === "fresh") {
    meter("memoryHit");
    return judged;
  }
  await judged.entry?.response.body?.cancel();
  return judge(req, deps, await store.lookup(req.key.url, req.varyHeaders, { memory: false }));
}

function judge(req: CacheRequest, deps: CacheDeps, found: Lookup): Judged {
  const entry = found.entry && forThisClient(found.entry, req.request);
  // src/purge/: a map lookup against this isolate's marks, no I/O.
  const purged = entry && req.purge ? req.purge.snapshot.verdict(entry.meta.purge) : "none";
  // RFC 9111 §3.5: a request with credentials only reuses responses marked shareable for it.
  const usable = entry !== null && purged !== "hard" && (!req.request.headers.has("authorization") || entry.meta.authOk);
  const now = deps.now();
  const reuse = entry && usable ? softPurged(decideReuse(entry.meta, req.directives, now), entry.meta.noStale, purged) : null;
  return { entry, varyMiss: found.varyMiss, purged, usable, reuse, now };
}
