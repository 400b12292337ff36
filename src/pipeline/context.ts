import type { Coalescer } from "../coalesce/object";
import type { RequestOutcome } from "../env";
import type { OriginFetcher } from "../http/fetch";
import type { CachePolicy, Route, Tenant } from "../tenant/types";
import type { Chosen } from "../http/accept-encoding";
import type { RequestDirectives } from "../http/freshness";
import type { CacheKey } from "../cache/key";
import type { PurgeRegistry } from "../purge/client";
import type { PurgeSnapshot } from "../purge/rules";
import type { RevalidationLocks } from "../cache/revalidation-locks";
import type { CacheStore } from "../cache/store";

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
  /** This request's data center (names its data center Coalescer). Default: `request.cf.colo`, "" locally. */
  readonly dataCenter?: (request: Request) => string;
  readonly log: (event: Record<string, unknown>) => void;
  /**
   * Told the bytes Brim's own compression saved on a response (identity length − bytes sent),
   * when the identity length is known (src/stats/ counts them). Called after the response.
   */
  readonly onCompressionSaved?: ((tenantId: string, route: string, bytes: number) => void) | null;
  /**
   * Told of each origin or body failure by its stable name (`origin-error:<CODE>`, the body
   * fault events of src/http/body.ts), for stats; called when it happens, which for body faults
   * is after the response headers went out.
   */
  readonly onFailure?: ((tenantId: string, route: string, kind: string) => void) | null;
  /** Every tenant's purge marks (src/purge/); null turns purge checks off. */
  readonly purges?: PurgeRegistry | null;
  /** The background high-quality pass over fresh compressed variants (src/pipeline/recompress.ts); null turns it off. */
  readonly recompress?: RecompressDeps | null;
}

export interface RecompressDeps {
  /** Identity bodies larger than this (bytes) are not recompressed. */
  readonly maxBytes: number;
  /** Awaited between the high-quality compression and the replacing write (tests land requests there). */
  readonly beforeReplace?: (() => Promise<void>) | null;
}

/** Everything one cacheable request needs, resolved before the cache runs. */
export interface CacheRequest {
  readonly request: Request;
  /** What happened, filled in as it happens (src/env.ts). */
  readonly outcome: RequestOutcome;
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
  /**
   * The tenant's purge marks as this isolate holds them, and the entry URL purges match
   * (normalised path + keyed query), and the purge generation when the request began (the
   * snapshot may advance while it fetches); absent when purging is off.
   */
  readonly purge?: { readonly snapshot: PurgeSnapshot; readonly url: string; readonly gen: number };
}
