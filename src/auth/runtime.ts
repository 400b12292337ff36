/**
 * Per-isolate auth state: for each tenant with `auth`, its key store (JWKS cache), verifier,
 * verified-token cache and revocation client, built the first time the tenant is served and
 * kept as long as that tenant object lives. A new revision of one tenant (a config push) is a
 * new object and starts fresh; every other tenant keeps what it has.
 */
import { TOKEN_CACHE_MAX_ENTRIES } from "../constants";
import type { Tenant, TenantAuth } from "../tenant/types";
import type { FetchJson } from "./jwks";
import { createKeyStore, type KeyStore } from "./keys";
import { RevocationClient } from "./revocation/client";
import type { RevocationList } from "./revocation/object";
import { TokenCache } from "./token-cache";
import { createVerifier, type Verifier } from "./verify";

export interface TenantAuthRuntime {
  readonly tenantId: string;
  readonly auth: TenantAuth;
  readonly keys: KeyStore;
  readonly verify: Verifier;
  readonly tokens: TokenCache;
  /** null when the tenant has no revocation list, or no namespace was given (see `check`). */
  readonly revocations: RevocationClient | null;
}

export interface AuthRuntime {
  forTenant(tenant: Tenant): TenantAuthRuntime | null;
}

/** Options of `createAuthRuntime`. */
export interface AuthRuntimeOptions {
  /** Namespace of `RevocationList`; without it, tenants with a revocation list get their `onStale` policy. */
  readonly revocations: DurableObjectNamespace<RevocationList> | null;
  /** The data center's cache, where revocation relay copies live (src/relay.ts). Default `caches.default`. */
  readonly cache?: () => Promise<Cache>;
  readonly log?: (event: Record<string, unknown>) => void;
  /** JWKS fetching; default `fetchBounded` + JSON.parse. */
  readonly fetchJson?: FetchJson;
  /** Entries per tenant in the verified-token cache. Default `TOKEN_CACHE_MAX_ENTRIES`. */
  readonly tokenCacheEntries?: number;
}

/** Auth state per tenant with an `auth` block, built on first use. */
export function createAuthRuntime(options: AuthRuntimeOptions): AuthRuntime {
  const byTenant = new WeakMap<Tenant, TenantAuthRuntime>();
  const build = (tenant: Tenant, auth: TenantAuth): TenantAuthRuntime => {
    const keys = createKeyStore(auth.keys, { tenantId: tenant.id, ...(options.fetchJson ? { fetchJson: options.fetchJson } : {}) });
    const policy = auth.revocation;
    return {
      tenantId: tenant.id,
      auth,
      keys,
      verify: createVerifier(auth, keys),
      tokens: new TokenCache(options.tokenCacheEntries ?? TOKEN_CACHE_MAX_ENTRIES),
      revocations:
        policy && options.revocations
          ? new RevocationClient({
              tenantId: tenant.id,
              issuer: auth.issuer,
              policy,
              namespace: options.revocations,
              cache: options.cache ?? (async () => caches.default),
              log: options.log ?? ((event) => console.log(JSON.stringify(event))),
            })
          : null,
    };
  };
  return {
    forTenant(tenant) {
      if (!tenant.auth) return null;
      let runtime = byTenant.get(tenant);
      if (!runtime) byTenant.set(tenant, (runtime = build(tenant, tenant.auth)));
      return runtime;
    },
  };
}
