import type { Coalescer } from "../coalesce/object";
import type { OriginFetcher } from "../origin/fetch";
import type { CachePolicy, Route, Tenant } from "../tenant/types";
import type { Chosen } from "../compress/accept-encoding";
import type { RequestDirectives } from "./freshness";
import type { CacheKey } from "./key";
import type { RevalidationLocks } from "./revalidation-locks";
import type { CacheStore } from "./store";

/** Long-lived collaborators, created once per isolate and injected (tests swap the clock). */
export interface CacheDeps {
  readonly store: () => Promise<CacheStore>;
  readonly fetcher: OriginFetcher;
  /** Epoch ms. */
  readonly now: () => number;
  /** In [0, 1); TTL jitter. */
  readonly random: () => number;
  readonly locks: RevalidationLocks;
  /** The per-key Coalescer Durable Objects; null turns coalescing off everywhere. */
  readonly coalescer: DurableObjectNamespace<Coalescer> | null;
  readonly log: (event: Record<string, unknown>) => void;
}

/** Everything one cacheable request needs, resolved before the cache runs. */
export interface CacheRequest {
  readonly request: Request;
  readonly tenant: Tenant;
  readonly route: Route;
  readonly policy: CachePolicy;
  readonly key: CacheKey;
  /** The client's Cache-Control directives, or none when the route ignores them. */
  readonly directives: RequestDirectives;
  /** The coding negotiated for this client; null when the route does not compress. */
  readonly coding: Chosen | null;
  /**
   * Request headers as Vary sees them: Accept-Encoding replaced by the negotiated coding, so
   * there is one entry per coding rather than one per browser's header string.
   */
  readonly varyHeaders: Headers;
  readonly waitUntil: (promise: Promise<unknown>) => void;
}
