/**
 * The normalized configuration: what the rest of Brim sees after `loadConfig` has parsed,
 * validated and defaulted the raw JSON. Every field is present (no `undefined` on the hot
 * path) and every object is frozen.
 */

export type QueryKeyPolicy =
  | { readonly mode: "all" }
  | { readonly mode: "none" }
  | { readonly mode: "allow"; readonly names: readonly string[] };

export interface CacheKeyPolicy {
  /** Which query parameters enter the key; "all" sorts them so order does not matter. */
  readonly query: QueryKeyPolicy;
  /** Lower-cased request header names whose values enter the key. */
  readonly headers: readonly string[];
}

export interface CachePolicy {
  /** Seconds of freshness when the origin gives none (or always, with `override`). */
  readonly ttlSeconds: number | null;
  /** RFC 5861 windows applied when the origin gives none (or always, with `override`). */
  readonly staleWhileRevalidateSeconds: number | null;
  readonly staleIfErrorSeconds: number | null;
  /** Route values replace the origin's freshness and stale windows instead of filling gaps. */
  readonly override: boolean;
  readonly key: CacheKeyPolicy;
  /** Ignore client Cache-Control request directives (no-cache, max-age, ...). */
  readonly ignoreRequestDirectives: boolean;
  /** Fraction (0..1) of the freshness lifetime subtracted at random per stored entry. */
  readonly ttlJitter: number;
  /** Responses larger than this are streamed through and not stored. */
  readonly maxObjectBytes: number;
  /** Request coalescing through the per-key Durable Object; `null` when turned off. */
  readonly coalesce: CoalescePolicy | null;
}

export interface CoalescePolicy {
  /** How long a request waits for the shared fetch before falling back to its own. */
  readonly waitMs: number;
}

export interface Route {
  /** The pattern as written in the config, for logs and stats. */
  readonly path: string;
  /** Index in the tenant's `routes` array. */
  readonly index: number;
  /** Origin base URL (no trailing slash), the route's own or the tenant's. */
  readonly origin: string;
  /** Bound on the wait for the origin's response headers. */
  readonly timeoutMs: number;
  /** `null` when the route has `cache: false`. */
  readonly cache: CachePolicy | null;
  readonly preserveHost: boolean;
}

export interface Tenant {
  readonly id: string;
  /** Lower-cased, port included as written. */
  readonly hosts: readonly string[];
  readonly origin: string;
  readonly routes: readonly Route[];
}

export interface BrimConfig {
  readonly tenants: readonly Tenant[];
}
