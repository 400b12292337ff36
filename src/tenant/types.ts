/**
 * The normalized configuration: what the rest of Brim sees after `loadConfig` has parsed,
 * validated and defaulted the raw JSON. Every field is present (no `undefined` on the hot
 * path) and every object is frozen.
 */
import type { LOCATION_HINTS } from "../constants";

export type QueryKeyPolicy =
  { readonly mode: "all" } | { readonly mode: "none" } | { readonly mode: "allow"; readonly names: readonly string[] };

export interface CacheKeyPolicy {
  /** Which query parameters enter the key; "all" sorts them so order does not matter. */
  readonly query: QueryKeyPolicy;
  /** Lower-cased request header names whose values enter the key. */
  readonly headers: readonly string[];
  /**
   * Verified JWT claims whose values enter the key (src/auth/); the token itself never does.
   * Present only when configured, so configs without auth normalize exactly as before.
   */
  readonly claims?: readonly string[];
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
  /**
   * Requests carrying `Cookie`: `bypass` proxies them uncached, cookie and all; `ignore` (the
   * origin does not use cookies for these responses) drops the cookie and caches as usual.
   */
  readonly cookies: "bypass" | "ignore";
  /**
   * Lower-cased request headers forwarded on cacheable fetches although not in the key: the
   * tenant states the origin does not use them for the response (logging, tracing).
   */
  readonly forwardUnkeyed: readonly string[];
}

export interface CoalescePolicy {
  /** How long a request waits for the shared fetch before falling back to its own. */
  readonly waitMs: number;
  /** Cloudflare `locationHint` for the key's global Coalescer (near the origin); null: near its first caller. */
  readonly locationHint: LocationHint | null;
}

export type LocationHint = (typeof LOCATION_HINTS)[number];

export interface Route {
  /** The pattern as written in the config, for logs and stats. */
  readonly path: string;
  /** Index in the tenant's `routes` array. */
  readonly index: number;
  /** Origin base URL (no trailing slash), the route's own or the tenant's. */
  readonly origin: string;
  /** Bound on the wait for the origin's response headers. */
  readonly timeoutMs: number;
  /** Bound on the wait between two reads of the origin's body. */
  readonly bodyIdleTimeoutMs: number;
  /** `null` when the route has `cache: false`. */
  readonly cache: CachePolicy | null;
  readonly preserveHost: boolean;
  /** Response compression; `null` when the route has `compression: false`. */
  readonly compression: CompressionPolicy | null;
  /** Token verification for this route; absent for `"auth": "none"` (the default). */
  readonly auth?: RouteAuth;
  /**
   * `"forward"`: ambiguous paths (`%2F`, `//`, `;`, ...) are sent on as they are instead of
   * answered with 400 (src/tenant/match.ts). Absent for `"reject"` (the default).
   */
  readonly ambiguousPaths?: "forward";
  /** WebSocket handshakes are proxied to the origin (src/pipeline/websocket.ts); absent when not (the default). */
  readonly websocket?: true;
}

export interface RouteAuth {
  /** `required`: no token → 401. `optional`: no token → anonymous; a bad token is still 401. */
  readonly mode: "required" | "optional";
  /** Scopes the token must all carry (`scope` / `scp` claim); empty for none. */
  readonly scopes: readonly string[];
}

/** Where verification keys come from: exactly one source per tenant. */
export type KeySource =
  | { readonly kind: "jwks"; readonly url: string; readonly maxAgeSeconds: number; readonly cooldownSeconds: number }
  | { readonly kind: "static"; readonly keys: readonly JsonWebKey[] }
  /** An HMAC secret in the Worker secret (env var) of this name; never inline. */
  | { readonly kind: "secret"; readonly env: string };

export interface RevocationPolicy {
  /** Where the tenant publishes `{ "jti": [...], "sub": { name: unixSeconds } }`. */
  readonly url: string;
  readonly refreshSeconds: number;
  readonly maxStaleSeconds: number;
  /** Past `maxStaleSeconds`: `deny` answers 503 (fail closed), `allow` lets tokens through and logs. */
  readonly onStale: "deny" | "allow";
}

export interface TenantAuth {
  readonly issuer: string;
  /** The token's `aud` must contain at least one of these. */
  readonly audience: readonly string[];
  readonly keys: KeySource;
  /** JWS `alg` values accepted (RFC 7518 §3.1); never "none". */
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  /** Required JOSE `typ` header (e.g. "at+jwt", RFC 9068), or null for any. */
  readonly typ: string | null;
  /** Longest accepted `exp - iat`, or null for no limit; with a limit, `iat` is required. */
  readonly maxTokenLifetimeSeconds: number | null;
  readonly maxTokenBytes: number;
  /** Lower-cased header the bearer token is read from, and the cookie tried after it. */
  readonly token: { readonly header: string; readonly cookie: string | null };
  readonly revocation: RevocationPolicy | null;
  readonly forward: {
    /** Verified claim → lower-cased request header sent to the origin. */
    readonly claims: readonly { readonly claim: string; readonly header: string }[];
    /** Remove the token (header and cookie) before the origin. */
    readonly stripAuthorization: boolean;
  };
}

export interface Tenant {
  readonly id: string;
  /** Lower-cased, port included as written. */
  readonly hosts: readonly string[];
  readonly origin: string;
  readonly routes: readonly Route[];
  /** Token verification; absent when the tenant has no `auth` block. */
  readonly auth?: TenantAuth;
  /** Admin endpoints (`/__brim/*`); absent when the tenant has no `admin` block. */
  readonly admin?: { readonly tokenEnv: string };
  /**
   * Opt-in Server-Timing and per-request log lines; absent when not configured (both off).
   * `requestLog`: null when off, else the share of non-error requests logged (errors always are).
   */
  readonly observability?: { readonly serverTiming: boolean; readonly requestLog: { readonly sampleRate: number } | null };
}

export interface BrimConfig {
  readonly tenants: readonly Tenant[];
}

/** Response compression for a route (null on the route when `compression: false`). */
export interface CompressionPolicy {
  /** Codings Brim may produce, in preference order at equal client quality. */
  readonly encodings: readonly ("br" | "gzip" | "zstd")[];
  /** Smaller bodies (by Content-Length) are sent as they are. */
  readonly minBytes: number;
  /** Content-Type patterns: exact, `type/*` or `type/*+suffix`, lower-case. */
  readonly types: readonly string[];
}

/**
 * Who the request is on an auth route (set by src/auth/): verified or anonymous, and the
 * verified claim values the response may depend on. Never the token.
 */
export interface KeyIdentity {
  readonly verified: boolean;
  /** [claim name, value] in a fixed order per route; values are JSON-encoded into the key. */
  readonly claims: readonly (readonly [string, unknown])[];
}
