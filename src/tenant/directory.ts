/**
 * Where a Host's tenant comes from. The request path asks a `TenantDirectory`; what stands
 * behind it is the config source: a config loaded in memory (`staticDirectory`, tests and
 * tools) or the versioned store's edge copy (src/control/directory.ts, the Worker).
 */
import type { BrimConfig, Tenant } from "./types";

/** Why a directory could not answer a lookup; the request gets a 503 (src/tenant/middleware.ts). */
export class ConfigUnavailable extends Error {
  constructor(
    /** not-configured: nothing was ever published; read-failed: the store did not answer. */
    readonly reason: "not-configured" | "read-failed",
    detail: string,
  ) {
    super(detail);
    this.name = "ConfigUnavailable";
  }
}

/** What a lookup may schedule after the response (the Worker's `waitUntil`). */
export type Background = (work: Promise<unknown>) => void;

/** Which config an isolate serves, for the platform API and logs. */
export interface DirectoryState {
  /** The config version this isolate last confirmed; null before it has read one (or for a static config). */
  readonly version: number | null;
  /** Epoch ms of the last successful version check; null when never checked. */
  readonly checkedAt: number | null;
}

/**
 * What a directory knows about the store it reads, for `GET /__brim/health` with the platform
 * token (src/admin/health.ts). Times are epoch ms by the injected clock; null: never happened.
 */
export interface DirectoryStatus {
  /** The config version this isolate serves (confirmed, its change lists applied). */
  readonly version: number | null;
  /** The active version the store's edge copy last named; ahead of `version` while a change list is not readable yet. */
  readonly activeVersion: number | null;
  /** When the last successful version read started. */
  readonly checkedAt: number | null;
  /** When the last version read or host read failed, and why (cleared by the next successful version read). */
  readonly lastFailure: { readonly at: number; readonly detail: string } | null;
  /** Hosts held in memory, and of those the ones no tenant claims. */
  readonly hosts: number;
  readonly unknownHosts: number;
}

export interface TenantDirectory {
  /**
   * The tenant for `host` as sent (port included, any case), or null when no tenant claims it.
   * Synchronous when the answer is already in memory, so a warm isolate resolves with no I/O.
   */
  lookup(host: string, background: Background): Tenant | null | Promise<Tenant | null>;
  state(): DirectoryState;
  /** A write landed: check the version on the next lookup instead of at the next poll. */
  expire(): void;
  /** The store's view for the health endpoint; absent for a config loaded in memory. Never called per request. */
  status?(): DirectoryStatus;
}

/** A directory over a config already loaded (`loadConfig`): a map lookup, never I/O. */
export function staticDirectory(config: BrimConfig): TenantDirectory {
  const byHost = new Map<string, Tenant>();
  for (const tenant of config.tenants) for (const host of tenant.hosts) byHost.set(host, tenant);
  return {
    lookup: (host) => byHost.get(host.toLowerCase()) ?? null,
    state: () => ({ version: null, checkedAt: null }),
    expire: () => undefined,
  };
}
