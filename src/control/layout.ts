/**
 * The config store's edge copy in Workers KV: what the ConfigStore object writes and every
 * isolate reads. One record per host (so a cold isolate's first request for a host is one
 * read), the active version (one small record every isolate polls), and one change list per
 * version (which hosts to forget).
 *
 *   <space>/active          ActiveRecord
 *   <space>/host/<host>     HostRecord      (host lower-cased, port as written; deleted when unclaimed)
 *   <space>/changes/<n>     ChangesRecord   (expires after CONFIG_CHANGES_TTL_SECONDS)
 *
 * The space is the ConfigStore object's name: "config" for a deployment (CONFIG_SPACE); tests
 * give each case its own, so stores never see each other's records.
 */

/** The deployment's config space: the ConfigStore object's name and the KV key prefix. */
export const CONFIG_SPACE = "config";

export function activeKey(space: string): string {
  return `${space}/active`;
}

export function hostKey(space: string, host: string): string {
  return `${space}/host/${host.toLowerCase()}`;
}

export function changesKey(space: string, version: number): string {
  return `${space}/changes/${version}`;
}

/** The newest version whose host records and change lists are all written. */
export interface ActiveRecord {
  readonly version: number;
  /** The store's identity: a recreated store (versions from 1 again) has another. */
  readonly store: string;
  /** Epoch ms at which it was published. */
  readonly publishedAt: number;
}

/** The tenant that claims a host, as accepted by the store (validated again by the reader). */
export interface HostRecord {
  /** The version that wrote this tenant revision. */
  readonly version: number;
  readonly tenant: unknown;
}

/** The hosts whose record changed in `version`; null: too many, forget every host. */
export interface ChangesRecord {
  readonly version: number;
  readonly hosts: readonly string[] | null;
}

/** Narrowing for records read back from KV (written by this code, but KV is outside the isolate). */
export function isActiveRecord(value: unknown): value is ActiveRecord {
  return (
    typeof value === "object" &&
    value !== null &&
    Number.isSafeInteger((value as ActiveRecord).version) &&
    typeof (value as ActiveRecord).store === "string"
  );
}

export function isHostRecord(value: unknown): value is HostRecord {
  return typeof value === "object" && value !== null && Number.isSafeInteger((value as HostRecord).version) && "tenant" in value;
}

export function isChangesRecord(value: unknown): value is ChangesRecord {
  if (typeof value !== "object" || value === null) return false;
  const hosts = (value as ChangesRecord).hosts;
  return hosts === null || (Array.isArray(hosts) && hosts.every((host) => typeof host === "string"));
}
