/** Every tunable in one place, units in the name. */

/** Default bound on the wait for the origin's response headers. */
export const DEFAULT_ORIGIN_TIMEOUT_MS = 30_000;

/**
 * Default bound on the wait between two reads of an origin body (`bodyIdleTimeoutMs`): a body
 * that stalls is abandoned for every reader and nothing is stored.
 */
export const DEFAULT_BODY_IDLE_TIMEOUT_MS = 30_000;

/**
 * Decoding an origin's Content-Encoding may expand a body at most this many times once it has
 * produced DECODE_RATIO_FLOOR_BYTES (compression bombs reach 1,000× for gzip and far more for
 * Brotli; real text compresses 3–20×, repetitive JSON rarely past 100×).
 */
export const DECODE_MAX_RATIO = 200;

/** Below this many decoded bytes the ratio is not checked (tiny bodies have extreme ratios). */
export const DECODE_RATIO_FLOOR_BYTES = 1024 * 1024;

/**
 * Cache writes are buffered in memory and committed whole (a Cache API put never reads a
 * stream that can fail). Bodies larger than this are stored as a head entry plus segments of
 * this size; the head, which makes the entry visible, is written last.
 */
export const CACHE_SEGMENT_BYTES = 4 * 1024 * 1024;

/**
 * The in-isolate memory tier (src/cache/memory.ts), in front of the Cache API. Each isolate
 * keeps its own copy of small hot entries; a Workers isolate has 128 MB, so together these
 * bound the tier to about 7 % of it (entries + Vary fields), whatever the traffic. Thousands of
 * isolates per data center each hold their own copy: that multiplies memory the platform
 * already gives each isolate, not load on anything shared, and every copy passes the same
 * freshness, purge and auth checks as a Cache API hit (docs/caching.md).
 *
 * Bodies larger than this (bytes) are never kept in memory (they are served from the Cache API).
 */
export const MEMORY_TIER_MAX_ENTRY_BYTES = 64 * 1024;

/** Total bytes (bodies + stored header fields + keys) the memory tier holds per isolate; least recently used first out. */
export const MEMORY_TIER_MAX_BYTES = 8 * 1024 * 1024;

/** Entries the memory tier holds per isolate (bounds per-entry overhead when entries are tiny). */
export const MEMORY_TIER_MAX_ENTRIES = 4096;

/**
 * Vary fields remembered per primary key (so a warm isolate reads a variant with one Cache API
 * read instead of marker + variant): at most this many keys and MEMORY_TIER_VARY_MAX_BYTES.
 */
export const MEMORY_TIER_VARY_MAX_KEYS = 4096;
export const MEMORY_TIER_VARY_MAX_BYTES = 1024 * 1024;

/**
 * How long an isolate trusts what it holds in memory (an entry, or a key's Vary fields) before
 * reading the Cache API again. Purges never wait for this (purge marks are checked on every
 * memory hit) nor does staleness (a memory entry is served only while fresh); it bounds how long
 * a deletion by another isolate (an unsafe-method invalidation, a damaged entry) or a newer
 * copy it stored can go unseen here. Cache.delete reaches one data center only, so other data
 * centers already keep their copies far longer than this.
 */
export const MEMORY_TIER_RESIDENCY_MS = 2_000;

/**
 * A Range header with more range-specs than this is ignored (the full 200 is sent): RFC 9110
 * §14.2 lets a server ignore range sets that cost more to evaluate than to answer in full.
 */
export const RANGE_MAX_SPECS = 32;

/** Responses whose header section is larger than this are not stored (bytes of names + values). */
export const MAX_STORED_HEADER_BYTES = 32 * 1024;

/** Responses with more header fields than this are not stored. */
export const MAX_STORED_HEADER_FIELDS = 100;

/** Responses larger than this are streamed through and not stored. */
export const DEFAULT_MAX_OBJECT_BYTES = 100 * 1024 * 1024;

/**
 * Extra time an entry is kept in the Cache API beyond its last usable moment (freshness plus
 * the longer stale window), so clock differences between isolates never drop an entry that
 * Brim still considers servable.
 */
export const STORAGE_MARGIN_SECONDS = 60;

/**
 * Entries with no stale window are still kept this long past freshness: a stale entry with a
 * validator can be revalidated with a conditional request (a 304 costs no body transfer).
 */
export const REVALIDATION_KEEP_SECONDS = 3_600;

/** Upper bound on how long a stored entry is kept (one year, the RFC 9111 §1.2.2 guidance). */
export const MAX_STORAGE_SECONDS = 365 * 24 * 3_600;

/**
 * A background revalidation is considered lost after this long past its own timeout, so a
 * crashed one can never block a key from being revalidated again.
 */
export const REVALIDATION_LOCK_SLACK_MS = 5_000;

/** Header that carries Brim's metadata on stored entries; never sent to clients. */
export const META_HEADER = "x-brim-meta";

/** Name used in `Cache-Status` (RFC 9211 §2). */
export const CACHE_STATUS_NAME = "Brim";

/** Origin of the synthetic URLs used as Cache API keys; never fetched. */
export const CACHE_KEY_ORIGIN = "https://cache.brim.internal";

/**
 * Request headers the origin receives on a cacheable route's fetch (a miss, a revalidation),
 * besides the route's `key.headers`, its `cache.forwardUnkeyed`, the tenant's forwarded-claim
 * headers and the ones Brim sets itself (X-Forwarded-*, validators). Every other client header
 * is dropped, as unkeyed query parameters are: what an origin cannot see cannot shape a shared
 * response. Each is safe for a reason:
 * - `accept`, `accept-encoding`, `accept-language`: proactive negotiation fields. An origin
 *   that selects on them must say so in `Vary` (RFC 9110 §12.5.5), and Brim keys on every
 *   field the response names in `Vary` (RFC 9111 §4.1), so what they select is never served
 *   to a request with other values. Trusting that `Vary` is the one thing left to the origin.
 * - `authorization`: a response to it is stored and shared only when the origin marks it
 *   `public`, `s-maxage` or `must-revalidate` (RFC 9111 §3.5), and reused for a request with
 *   Authorization only when so marked; auth routes strip or key the token (src/auth/).
 * Not here on purpose: `cookie` (see `cache.cookies`), `user-agent`, `origin`, `referer`
 * (commonly used to select content without `Vary`), `cache-control`/`pragma` (request
 * directives are Brim's to act on, RFC 9111 §5.2.1), and the override headers below.
 */
export const SHARED_FETCH_REQUEST_HEADERS: readonly string[] = ["accept", "accept-encoding", "accept-language", "authorization"];

/**
 * Request headers some origin frameworks or proxies honour as an override of the host, URL,
 * method, scheme or client address (classic cache-poisoning inputs). Removed on every route,
 * cached or not, with any `x-forwarded-*` field; Brim sets X-Forwarded-For/-Proto/-Host itself.
 */
export const OVERRIDE_REQUEST_HEADERS: readonly string[] = [
  "forwarded",
  // Host overrides.
  "x-host",
  "x-original-host",
  "x-http-host-override",
  "x-forwarded-server",
  // URL and path overrides.
  "x-original-url",
  "x-rewrite-url",
  "x-override-url",
  // Method overrides.
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
  // Scheme overrides.
  "front-end-https",
  "x-url-scheme",
  // Client address overrides.
  "x-real-ip",
  "true-client-ip",
  "client-ip",
  "x-client-ip",
  "x-cluster-client-ip",
  "x-originating-ip",
  "x-remote-ip",
  "x-remote-addr",
];

/** Default coalescing wait beyond the route's `timeoutMs` (the leader's own deadline). */
export const COALESCE_WAIT_SLACK_MS = 1_000;

/**
 * Attempts a data center's Coalescer makes to reach the key's global Coalescer (first try plus
 * retries) before telling its waiters the global tier is unavailable; and the pause before each
 * retry (times the attempt number). Bounded so a waiter's total wait stays near its `waitMs`.
 */
export const COALESCE_GLOBAL_ATTEMPTS = 2;
export const COALESCE_RETRY_BACKOFF_MS = 50;

/**
 * Cloudflare's `locationHint` regions for a Durable Object (placement at first creation only):
 * `cache.coalesce.locationHint` places a key's global Coalescer near the origin.
 */
export const LOCATION_HINTS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;

/** Upper bound on a configured coalescing wait. */
export const MAX_COALESCE_WAIT_MS = 600_000;

/**
 * After a non-shareable response (private, no-store, Set-Cookie, Vary: *), requests for the
 * key skip the coalescing queue this long (Varnish's hit-for-miss): otherwise they would
 * serialize behind each other, each waiting for a response it cannot use.
 */
export const COALESCE_HIT_FOR_MISS_MS = 10_000;

/**
 * A completed shareable, fresh response is kept in the object this long, so requests that
 * arrive before the edge cache write is visible (or from other data centers) get it without
 * a second origin fetch. Bounded by the response's own freshness.
 */
export const COALESCE_RECENT_MS = 2_000;

/**
 * Bodies are shared through an in-memory replay buffer. Once a flight has buffered this much,
 * new arrivals fetch for themselves instead of joining, and bytes every reader has passed are
 * released, so a huge body never has to fit in memory.
 */
export const COALESCE_SHARED_BODY_MAX_BYTES = 8 * 1024 * 1024;

/** Past the shared limit, the origin is read only while the slowest reader lags less than this. */
export const COALESCE_MAX_READER_LAG_BYTES = 1024 * 1024;

/** Bodies up to this size are kept for late arrivals (see COALESCE_RECENT_MS). */
export const COALESCE_RECENT_MAX_BYTES = 1024 * 1024;

/**
 * Coalescer shards (docs/coalescing.md "Shards"). A key's object in each tier is one of a fixed
 * set, chosen by a hash of the key, instead of one object per key: shards stay warm, so a miss
 * never pays for creating an object (locally ~10 ms of a ~1 ms hop; on Cloudflare the first use
 * of a new object id is a global lookup) and a key still maps to exactly one object per tier.
 * Each shard handles its keys independently (state per key); its bound is one object's
 * throughput (~1,000 calls/s): per data center, COLO shards × that for misses; for the whole
 * deployment (per location hint), GLOBAL shards × that for data-center leaders' calls.
 */
export const COALESCE_COLO_SHARDS = 16;
export const COALESCE_GLOBAL_SHARDS = 64;

/** Bytes of kept responses (COALESCE_RECENT_MS) one shard holds for all its keys together. */
export const COALESCE_SHARD_RECENT_MAX_BYTES = 16 * 1024 * 1024;

/**
 * A shareable body declared (Content-Length) at most this long is handed to waiters as one
 * buffer once it is complete, instead of as a stream per waiter: one message per waiter across
 * the object boundary, not a stream's several. Larger or undeclared bodies stream as they arrive.
 */
export const COALESCE_WHOLE_BODY_MAX_BYTES = 64 * 1024;

// --- Auth (src/auth/) -------------------------------------------------------------------

/** Default tolerance for exp / nbf / iat against the verifier's clock (RFC 7519 §4.1.4 "leeway"). */
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;

/** Upper bound on a configured clock skew: more would make exp meaningless. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

/** Upper bound on a configured `maxTokenLifetimeSeconds` (one year). */
export const MAX_TOKEN_LIFETIME_SECONDS = 365 * 24 * 3_600;

/** Tokens longer than this are rejected before any decoding (cheap DoS guard). */
export const DEFAULT_MAX_TOKEN_BYTES = 8 * 1024;

/** A JWKS is refetched in the background once older than this (default `jwksMaxAgeSeconds`). */
export const DEFAULT_JWKS_MAX_AGE_SECONDS = 600;

/** At most one JWKS refetch for an unknown `kid` per this many seconds (default `jwksCooldownSeconds`). */
export const DEFAULT_JWKS_COOLDOWN_SECONDS = 30;

/** The background JWKS refresh starts once this fraction of the max age has passed. */
export const JWKS_REFRESH_AHEAD_FRACTION = 0.8;

/** Bound on one JWKS fetch (headers and body). */
export const JWKS_FETCH_TIMEOUT_MS = 5_000;

/** Larger JWKS documents are refused (a real key set is a few KiB). */
export const JWKS_MAX_BYTES = 256 * 1024;

/** How long a request waits for a JWKS fetch another request already started, polling. */
export const JWKS_WAIT_POLL_MS = 10;

/**
 * Shortest HMAC secret accepted per algorithm: the hash output size (RFC 7518 §3.2: "a key of
 * the same size as the hash output … or larger MUST be used"). Shorter secrets are refused.
 */
export const HMAC_MIN_SECRET_BYTES: Readonly<Record<"HS256" | "HS384" | "HS512", number>> = { HS256: 32, HS384: 48, HS512: 64 };

/** Verified tokens remembered per tenant per isolate (LRU); each entry ends at the token's exp. */
export const TOKEN_CACHE_MAX_ENTRIES = 10_000;

/**
 * Longest a verified token is reused without verifying it again, for inline keys and HMAC
 * secrets (a JWKS uses its `jwksMaxAgeSeconds`). Entries also end at the token's exp.
 */
export const TOKEN_CACHE_MAX_AGE_SECONDS = 600;

/** Default revocation list refresh interval (`revocation.refreshSeconds`). */
export const DEFAULT_REVOCATION_REFRESH_SECONDS = 30;

/** Default bound on the age of the revocation list before `onStale` applies. */
export const DEFAULT_REVOCATION_MAX_STALE_SECONDS = 300;

/**
 * A published revocation list that loses more than this fraction of its entries (jti +
 * sub) at once, or becomes empty, is rejected unless it says `"allowShrink": true`; the last
 * good list stays in force. 0.5: "loses most of its entries".
 */
export const REVOCATION_MAX_SHRINK_FRACTION = 0.5;

/** Bound on one fetch of the revocation list by the per-tenant Durable Object. */
export const REVOCATION_FETCH_TIMEOUT_MS = 5_000;

/**
 * Revocation lists larger than this are refused (10^6 jti of ~40 bytes is ~45 MB of JSON). The
 * body is parsed as it streams in (src/auth/revocation/stream.ts), never held whole, so this
 * bounds the fetch's time and transfer, not the object's memory.
 */
export const REVOCATION_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Feeds listing more jti than this are refused (`too-large`; the last good list stays): 8 bytes
 * each in the object, so at most 16 MB per copy of the list (128 MB per isolate and object).
 */
export const REVOCATION_MAX_JTI = 2_000_000;

/** Feeds revoking more subjects than this are refused (`too-large`). */
export const REVOCATION_MAX_SUBJECTS = 100_000;

/** A jti, subject or `iss` longer than this (UTF-16 code units) rejects the feed (`schema`). */
export const REVOCATION_MAX_STRING_CHARS = 2_048;

/**
 * The jti set is split into 2^k segments by the fingerprints' top k bits, k the smallest that
 * leaves at most this many fingerprints per segment on average (32 KiB), so a small change
 * re-sends one segment, not the set.
 */
export const REVOCATION_SEGMENT_TARGET_ENTRIES = 4_096;

/** At most 2^8 = 256 segments: a cold isolate reads at most 256 + 2 Cache API entries. */
export const REVOCATION_MAX_SEGMENT_BITS = 8;

/**
 * Relay copies of segments live this long in the data center's cache. They are content-addressed
 * (named by their SHA-256), so one unchanged for days is still current; a segment that expired
 * makes the next relay refresh read every segment from the object again.
 */
export const REVOCATION_SEGMENT_TTL_SECONDS = 86_400;

/**
 * An isolate re-reads its data center's relay copy of the revocation list (a Cache API read,
 * src/relay.ts) at most this often, in the background.
 */
export const REVOCATION_RELAY_POLL_MS = 2_500;

/**
 * The relay copy is refreshed from the `RevocationList` object once it is this old, by the one
 * isolate of the data center that takes the lease. With `refreshSeconds` and the fetch timeout,
 * POLL + REFRESH is the enforcement bound in other data centers (docs/auth.md).
 */
export const REVOCATION_RELAY_REFRESH_MS = 5_000;

/** Bound on one isolate → Durable Object read of the revocation list. */
export const REVOCATION_READ_TIMEOUT_MS = 5_000;

/** Largest admin request body (`POST /__brim/revocations`). */
export const ADMIN_MAX_BODY_BYTES = 1024 * 1024;

/** Pushed revocations kept by the Durable Object until the published list carries them. */
export const REVOCATION_MAX_PUSHED_ENTRIES = 100_000;

/** Types worth compressing by default: text, JSON, JavaScript, XML and SVG (+json/+xml suffixes too). */
export const DEFAULT_COMPRESSIBLE_TYPES: readonly string[] = [
  "text/*",
  "application/json",
  "application/*+json",
  "application/javascript",
  "application/x-javascript",
  "application/xml",
  "application/*+xml",
  "image/svg+xml",
  "application/wasm",
];

/** Bodies smaller than this are not worth compressing (headers and framing dominate). */
export const DEFAULT_COMPRESSION_MIN_BYTES = 1024;
/** zstd level for Brim's own output (src/compress/zstd.ts): zstd's default, fast and close to Brotli 4 on text. */
export const ZSTD_LEVEL = 3;
/**
 * Input bytes per zstd frame (src/compress/zstd.ts): the buffer held per compressing response,
 * and where the encoder's history restarts (larger compresses a little better).
 */
export const ZSTD_FRAME_BYTES = 256 * 1024;

/**
 * The background high-quality pass (src/compress/recompress.ts, docs/compression.md): a variant
 * Brim compressed at the fast level on a miss is compressed again at these levels and replaces
 * the stored one when smaller. Brotli 11 runs at roughly 0.2–0.5 MB/s of input (0.25–0.55 s of
 * CPU for 100 KB of JSON, against ~5 ms at quality 4: `bench/recompress-cost.ts`); gzip 9 costs
 * a few ms. zstd has no second pass (src/compress/recompress.ts).
 */
export const BROTLI_BEST_QUALITY = 11;
export const GZIP_BEST_LEVEL = 9;

/**
 * Identity bodies larger than this are not recompressed (bytes): Brotli 11 is synchronous CPU in
 * the isolate, so this bounds how long one pass holds it (0.6–0.9 s at 256 KiB; 1 MiB would take
 * 2–4 s). It is also the most a storing miss copies beside its buffered cache write.
 */
export const RECOMPRESS_MAX_BYTES = 256 * 1024;

/** Retry-After for a 503 when no verification key is available and no better hint exists. */
export const AUTH_UNAVAILABLE_RETRY_AFTER_SECONDS = 30;

/** A RevocationList object stops its alarm after this long without reads (a removed tenant). */
export const REVOCATION_IDLE_STOP_MS = 60 * 60 * 1000;

// --- Purge (src/purge/) -------------------------------------------------------------------

/**
 * An isolate re-reads its data center's relay copy of a tenant's purge marks (one Cache API read,
 * src/relay.ts) at most this often, in the background: hits keep using the marks they have.
 */
export const PURGE_RELAY_POLL_MS = 500;

/**
 * The relay copy is refreshed from the tenant's `PurgeLog` once it is this old, by the one
 * isolate of the data center holding the lease: about one object read per second per data
 * center, whatever the number of isolates.
 */
export const PURGE_RELAY_REFRESH_MS = 1_000;

/**
 * Marks read from the object longer ago than this are never used: the request waits for one
 * relay read (Cache API), and only when the relay has nothing this recent, for one object read.
 * This is the propagation bound: a request that arrives this long after a purge's response
 * never gets the purged content (docs/operations.md). Busy isolates never wait: REFRESH + POLL
 * + a read keeps their marks younger than this.
 */
export const PURGE_MAX_STALE_MS = 3_000;

/** Bound on one isolate → `PurgeLog` read. */
export const PURGE_READ_TIMEOUT_MS = 2_000;

/**
 * Slack added to the longest storage time before a mark expires: covers propagation
 * (PURGE_MAX_STALE_MS), the time from a request's start (when its entry's purge generation is
 * taken) to its Cache API write (a slow fill), and clock differences between the caller that
 * stamped the mark and the one expiring it (Workers clocks agree within milliseconds).
 */
export const PURGE_MARK_TTL_SLACK_MS = 24 * 3_600 * 1_000;

/**
 * A purge mark expires this long after its last purge (`at`): no entry stored before it can
 * still be served, because the Cache API drops every entry MAX_STORAGE_SECONDS after its write
 * at the latest (src/http/storability.ts caps freshness + stale windows + margin at that), and
 * the memory tier never outlives the Cache API entry. About 366 days.
 */
export const PURGE_MARK_TTL_MS = MAX_STORAGE_SECONDS * 1_000 + PURGE_MARK_TTL_SLACK_MS;

/** The `PurgeLog` looks for expired marks at most this often (a scan of its table), and when it is full. */
export const PURGE_EXPIRY_INTERVAL_MS = 3_600 * 1_000;

/**
 * Marks kept per tenant (object memory, the relay copy, each isolate's copy). Still past this
 * after expiry, the oldest marks are folded into a purge of everything of the same strength
 * down to PURGE_FOLD_TO_MARKS: over-purging is safe, forgetting is not (last resort, logged).
 */
export const PURGE_MAX_MARKS = 50_000;

/** Total bytes of mark names (URLs, prefixes, tags) kept per tenant; past this, as PURGE_MAX_MARKS. */
export const PURGE_MAX_MARK_NAME_BYTES = 4 * 1024 * 1024;

/** What a fold leaves: room for a few more large purges before the next one. */
export const PURGE_FOLD_TO_MARKS = 40_000;

/**
 * Selectors accepted in one `POST /__brim/purge` (one `PurgeLog` call however many; the body is
 * also bounded by ADMIN_MAX_BODY_BYTES).
 */
export const PURGE_MAX_SELECTORS = 10_000;

/**
 * URL purges up to this size also tell each URL's Coalescer (two calls per URL: this data
 * center's and the global one) to forget a response it keeps; larger purges skip that (bounded
 * object calls) and rely on misses of a recently purged tenant bypassing kept responses.
 */
export const PURGE_FORGET_KEPT_MAX_URLS = 8;

/**
 * For this long after a purge this isolate knows of (its `at`), the tenant's misses ask their
 * Coalescer as a request requiring validation would: no response it kept (COALESCE_RECENT_MS
 * after a fetch that may have started before the purge, within DEFAULT_ORIGIN_TIMEOUT_MS) is
 * reused. Costs only late-arrival reuse for a minute after a purge.
 */
export const PURGE_KEPT_BYPASS_MS = 60_000;

/** Tags kept per stored entry, and the longest tag kept (Cloudflare's Cache-Tag limit is 1024). */
export const PURGE_MAX_TAGS_PER_ENTRY = 64;
export const PURGE_MAX_TAG_BYTES = 1_024;

// --- Stats (src/stats/) -------------------------------------------------------------------

/** An isolate flushes its counts to the tenant's `StatsLog` at most this often… */
export const STATS_FLUSH_INTERVAL_MS = 5_000;

/** …or after this many requests, whichever comes first. */
export const STATS_FLUSH_MAX_REQUESTS = 200;

/**
 * With Workers Analytics Engine bound (every request is a data point there), the batches still
 * go to the tenant's `StatsLog` for `/__brim/stats`, but at most this often per isolate: the
 * object leaves the hot path (one call per isolate per minute, not per 200 requests).
 */
export const STATS_OBJECT_FLUSH_WITH_ANALYTICS_MS = 60_000;

/** The stats page's charts: one point per this interval (on the flushing isolate's clock)… */
export const STATS_SERIES_STEP_MS = 60_000;

/** …and this many points kept per tenant (one hour). */
export const STATS_SERIES_POINTS = 60;

/** `GET /__brim/` reloads itself this often. */
export const STATS_PAGE_REFRESH_SECONDS = 5;

/** The stats page's route table lists this many routes, most requests first (the JSON has all). */
export const STATS_PAGE_TOP_ROUTES = 20;

/**
 * The platform view reads at most this many tenants' StatsLog objects (one Durable Object call
 * each, in parallel): well under the Workers subrequest limit (1,000 per request on paid plans).
 * Past it, Analytics Engine's SQL API is the platform-wide view (docs/operations.md).
 */
export const STATS_PLATFORM_MAX_TENANTS = 100;

/** A browser session (`POST /__brim/login`) lasts this long; then the form again. */
export const ADMIN_SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** The session cookie's name (Path=/__brim, HttpOnly, SameSite=Strict, Secure except on localhost). */
export const ADMIN_SESSION_COOKIE = "brim_session";

/**
 * Config store (src/control/, docs/control-plane.md). An isolate re-reads the active config
 * version in the background once its copy is this old; hits never wait for it.
 */
export const CONFIG_POLL_MS = 4_000;

/**
 * A request that finds the isolate's version check older than this (an idle isolate) waits for
 * a fresh one: with CONFIG_POLL_MS this bounds how long a pushed change takes to be served by a
 * warm isolate once the store's edge copy has it (locally: at once; on Cloudflare: KV's own
 * propagation, see docs/control-plane.md).
 */
export const CONFIG_MAX_STALE_MS = 8_000;

/**
 * An isolate re-reads a host it holds (in the background) once its copy is this old, whatever
 * the change lists said: the bound on a copy that a data center served from before a change
 * (KV's propagation is about 60 s, plus a 30 s `cacheTtl`).
 */
export const CONFIG_HOST_MAX_AGE_MS = 120_000;

/** Bound on one read of the config store's edge copy; a slower read counts as failed. */
export const CONFIG_READ_TIMEOUT_MS = 2_000;

/**
 * Workers KV `cacheTtl` for config reads, in seconds: the data center keeps what it read this
 * long (30 s is KV's minimum), so a cold isolate's first read of a host is normally served
 * from its own data center.
 */
export const CONFIG_KV_CACHE_TTL_SECONDS = 30;

/** Hosts (with their tenants, and hosts known to be unclaimed) an isolate keeps in memory; least recently used go first. */
export const CONFIG_ISOLATE_MAX_HOSTS = 4_096;

/** Of CONFIG_ISOLATE_MAX_HOSTS, at most this many may be hosts no tenant claims (made-up Host headers cannot evict tenants). */
export const CONFIG_ISOLATE_MAX_UNKNOWN_HOSTS = 512;

/**
 * An isolate more than this many versions behind drops every tenant it holds (each is re-read
 * on its next request) instead of reading that many change lists.
 */
export const CONFIG_MAX_VERSION_GAP = 100;

/** A version that changes more hosts than this publishes "everything changed" instead of the list. */
export const CONFIG_MAX_CHANGED_HOSTS = 2_000;

/**
 * KV writes the ConfigStore makes per invocation (Workers allow 1,000 KV operations per
 * invocation); a larger push is published over several alarm runs.
 */
export const CONFIG_KV_WRITES_PER_RUN = 400;

/** Change lists are kept in KV this long; an isolate further behind re-reads everything. */
export const CONFIG_CHANGES_TTL_SECONDS = 7 * 24 * 3_600;

/**
 * Largest platform API request body (a whole tenants document). Parsed and validated inside one
 * Durable Object (128 MB of memory): a 10,000-tenant document is about 3 MB; the object graph
 * and zod's copies take several times the text.
 */
export const PLATFORM_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Largest single tenant, as compact JSON (a SQLite row in the ConfigStore holds at most 2 MB). */
export const CONFIG_MAX_TENANT_BYTES = 1024 * 1024;

/** Versions `GET /__brim/platform/config/versions` lists, newest first. */
export const CONFIG_VERSIONS_LISTED = 100;

// --- Relay (src/relay.ts) -----------------------------------------------------------------

/** After a failed object read, an isolate waits this long before the next one… */
export const RELAY_BACKOFF_MIN_MS = 1_000;

/** …doubling on each further failure up to this. */
export const RELAY_BACKOFF_MAX_MS = 30_000;

/**
 * Cache API lifetime of a relay head and lease (garbage collection only: ages are judged on the
 * injected clock from the time written inside), and of a relay body (immutable, one per version).
 */
export const RELAY_HEAD_TTL_SECONDS = 60;
export const RELAY_BODY_TTL_SECONDS = 3_600;

/**
 * Purge marks' relay head lives as long as the bodies it names: while a tenant's PurgeLog is
 * unreachable a new isolate takes this older copy (stale marks hide what they knew; no marks
 * hide nothing). Its age is read from inside it, so keeping it longer never makes it look young.
 */
export const PURGE_RELAY_HEAD_TTL_SECONDS = RELAY_BODY_TTL_SECONDS;

/** While an isolate holds no purge marks for a tenant (never loaded), `purge-marks-unknown` is logged at most this often per tenant. */
export const PURGE_UNKNOWN_LOG_INTERVAL_MS = RELAY_BACKOFF_MAX_MS;

/**
 * Longest path-and-query a request log line carries (src/http/log-path.ts); longer ones end in
 * `...`, cut after redaction. Cloudflare accepts URLs up to 16 KB; a log line stays readable.
 */
export const LOG_PATH_MAX_CHARS = 2_048;
