/**
 * Per-isolate auth state, built once per loaded config: for each tenant with `auth`, its
 * key store (JWKS cache), verifier, verified-token cache and revocation client.
 */
import { TOKEN_CACHE_MAX_ENTRIES } from "../constants";
import type { BrimConfig, Tenant, TenantAuth } from "../tenant/types";
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
  /** JWKS fetching; default `fetchBounded` + JSON.parse. */
  readonly fetchJson?: FetchJson;
  /** Entries per tenant in the verified-token cache. Default `TOKEN_CACHE_MAX_ENTRIES`. */
  readonly tokenCacheEntries?: number;
}

/** Builds the auth state for every tenant that has an `auth` block. */
export function createAuthRuntime(config: BrimConfig, options: AuthRuntimeOptions): AuthRuntime {
  const byTenant = new Map<Tenant, TenantAuthRuntime>();
  for (const tenant of config.tenants) {
    const auth = tenant.auth;
    if (!auth) continue;
    const keys = createKeyStore(auth.keys, { tenantId: tenant.id, ...(options.fetchJson ? { fetchJson: options.fetchJson } : {}) });
    const policy = auth.revocation;
    byTenant.set(tenant, {
      tenantId: tenant.id,
      auth,
      keys,
      verify: createVerifier(auth, keys),
      tokens: new TokenCache(options.tokenCacheEntries ?? TOKEN_CACHE_MAX_ENTRIES),
      revocations:
        policy && options.revocations
          ? new RevocationClient({ tenantId: tenant.id, issuer: auth.issuer, policy, namespace: options.revocations })
          : null,
    });
  }
  return { forTenant: (tenant) => byTenant.get(tenant) ?? null };
}
