/**
 * Per-isolate auth state: for each tenant with `auth`, its key store (JWKS cache), verifier,
 * verified-token cache and revocation client, built the first time the tenant is served and
 * kept as long as that tenant object lives. A new revision of one tenant (a config push) is a
 * new object and starts fresh; every other tenant keeps what it has.
 */
import { TOKEN_CACHE_MAX_ENTRIES } from "../constants";
import type { Tenant, TenantAuth } from "../tenant/types";
import { RemoteJwks, type FetchJson, type JwksStatus } from "./jwks";
import { createKeyStore, type KeyStore } from "./keys";
import { RevocationClient, type RevocationStatus } from "./revocation/client";
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

/** One loaded tenant's auth state, for `GET /__brim/health` with the platform token. */
export interface TenantAuthStatus {
  readonly tenant: string;
  /** null: the tenant's keys are not a remote JWKS (inline keys or a secret never go stale). */
  readonly jwks: JwksStatus | null;
  /** null: no revocation list (or no RevocationList namespace). */
  readonly revocation: RevocationStatus | null;
}

export interface AuthRuntime {
  forTenant(tenant: Tenant): TenantAuthRuntime | null;
  /**
   * The auth state of the tenants this isolate has served and still holds, by tenant id (the
   * newest revision of each). Collected only when asked (the health endpoint); `now` is epoch ms.
   */
  status(now: number): TenantAuthStatus[];
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
  // For `status` only. Weak: a tenant the directory forgot (and its keys and revocation list)
  // is not kept alive by the health endpoint. Dead entries are swept when the map doubles, so
  // the cost is amortized O(1) per runtime built and nothing per request.
  const loaded = new Map<string, WeakRef<TenantAuthRuntime>>();
  let sweepAt = LOADED_SWEEP_MIN;
  const remember = (runtime: TenantAuthRuntime) => {
    loaded.delete(runtime.tenantId);
    loaded.set(runtime.tenantId, new WeakRef(runtime));
    if (loaded.size < sweepAt) return;
    for (const [id, ref] of loaded) if (ref.deref() === undefined) loaded.delete(id);
    sweepAt = Math.max(LOADED_SWEEP_MIN, loaded.size * 2);
  };
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
      if (!runtime) {
        byTenant.set(tenant, (runtime = build(tenant, tenant.auth)));
        remember(runtime);
      }
      return runtime;
    },
    status(now) {
      const out: TenantAuthStatus[] = [];
      for (const [tenant, ref] of loaded) {
        const runtime = ref.deref();
        if (!runtime) continue;
        out.push({
          tenant,
          jwks: runtime.keys instanceof RemoteJwks ? runtime.keys.status(now) : null,
          revocation: runtime.revocations?.status(now) ?? null,
        });
      }
      return out.sort((a, b) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : 0));
    },
  };
}

/** Entries of the weak status map before the first sweep of dead ones. */
const LOADED_SWEEP_MIN = 64;
