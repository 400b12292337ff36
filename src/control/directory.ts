/**
 * The isolate's view of the config store: Host → tenant, read from the store's edge copy in
 * Workers KV (src/control/layout.ts) the first time this isolate sees a host, then from memory.
 *
 * - A warm host resolves with no I/O (a map lookup).
 * - A cold host costs one KV read (`cacheTtl`: normally served by the data center); the very
 *   first one of an isolate reads the active version in the same bulk read.
 * - Every CONFIG_POLL_MS the active version is re-read in the background; a newer one names
 *   the hosts it changed, which are forgotten (re-read on their next request). Only a request
 *   that finds the check older than CONFIG_MAX_STALE_MS (an idle isolate) waits for it: that
 *   bounds propagation. Failures are logged and retried on the next poll, never per request.
 * - A host record is validated again here (`loadTenant`) before it is served, and tenants
 *   are shared between the hosts of one revision, so per-tenant state (routes, keys, token
 *   caches) is built once per revision and a change to one tenant leaves the others alone.
 */
import {
  CONFIG_HOST_MAX_AGE_MS,
  CONFIG_ISOLATE_MAX_HOSTS,
  CONFIG_ISOLATE_MAX_UNKNOWN_HOSTS,
  CONFIG_KV_CACHE_TTL_SECONDS,
  CONFIG_MAX_STALE_MS,
  CONFIG_MAX_VERSION_GAP,
  CONFIG_POLL_MS,
  CONFIG_READ_TIMEOUT_MS,
} from "../constants";
import { ConfigUnavailable, type Background, type DirectoryState, type DirectoryStatus, type TenantDirectory } from "../tenant/directory";
import { ConfigError, loadTenant } from "../tenant/load";
import type { Tenant } from "../tenant/types";
import { activeKey, CONFIG_SPACE, changesKey, hostKey, isActiveRecord, isChangesRecord, isHostRecord, type ChangesRecord } from "./layout";

/** Options of `KvDirectory`. */
export interface KvDirectoryOptions {
  readonly kv: KVNamespace;
  /** The config space (ConfigStore name, KV prefix). Default CONFIG_SPACE. */
  readonly space?: string;
  /** Epoch ms (the injected clock in tests). */
  readonly now: () => number;
  readonly log: (event: Record<string, unknown>) => void;
  /** Hosts kept in memory. Default CONFIG_ISOLATE_MAX_HOSTS. */
  readonly maxHosts?: number;
  /** Of those, hosts no tenant claims. Default CONFIG_ISOLATE_MAX_UNKNOWN_HOSTS. */
  readonly maxUnknownHosts?: number;
}

interface HostEntry {
  /** null: no tenant claims the host (remembered too, so unknown hosts do not cost a read each). */
  readonly tenant: Tenant | null;
  /** The version that wrote the record read (0 for an absent one). */
  readonly recordVersion: number;
  /** When it was read (injected clock): past CONFIG_HOST_MAX_AGE_MS it is re-read in the background. */
  readonly readAt: number;
}

export class KvDirectory implements TenantDirectory {
  readonly #kv: KVNamespace;
  readonly #space: string;
  readonly #now: () => number;
  readonly #log: (event: Record<string, unknown>) => void;
  readonly #maxHosts: number;
  /** Insertion order is recency: a hit moves its host to the end; the first is evicted. */
  readonly #hosts = new Map<string, HostEntry>();
  /** The hosts of `#hosts` no tenant claims, oldest first. */
  readonly #unknown = new Set<string>();
  readonly #maxUnknown: number;
  /** `id@version` → the tenant built from that revision, shared by its hosts. */
  readonly #revisions = new Map<string, Tenant>();
  /**
   * Host → the version a change list said it changed in, until when. A read that returns an
   * older record (or none) for such a host is a data center's cached copy from before the
   * change (KV `cacheTtl`): it is served but re-read at every poll until the change shows.
   */
  readonly #expected = new Map<string, { readonly version: number; readonly until: number }>();
  /** Hosts whose entry is such a cached copy. */
  readonly #stale = new Set<string>();
  #version: number | null = null;
  /** The store that published `#version` (a recreated store starts its versions again). */
  #store: string | null = null;
  /** Since when (injected clock) a change list this isolate needs has not been readable. */
  #listMissingSince: number | null = null;
  /** Hosts being re-read in the background (never more than one read per host at a time). */
  readonly #refreshing = new Set<string>();
  /** When the last successful version check started (injected clock); null before the first. */
  #checkedAt: number | null = null;
  /** After a failed check: no other check before this (injected clock); 0 when the last check succeeded. */
  #retryAt = 0;
  /** Real-time deadline of the check in flight (a check is never shared as a promise across requests). */
  #checkingUntil = 0;
  /** The active version the last successful version read named (for `status()` only). */
  #activeSeen: number | null = null;
  /** The last failed read (for `status()` only); cleared by a successful version read. */
  #lastFailure: { readonly at: number; readonly detail: string } | null = null;

  constructor(options: KvDirectoryOptions) {
    this.#kv = options.kv;
    this.#space = options.space ?? CONFIG_SPACE;
    this.#now = options.now;
    this.#log = options.log;
    this.#maxHosts = options.maxHosts ?? CONFIG_ISOLATE_MAX_HOSTS;
    this.#maxUnknown = Math.min(this.#maxHosts, options.maxUnknownHosts ?? CONFIG_ISOLATE_MAX_UNKNOWN_HOSTS);
  }

  state(): DirectoryState {
    return { version: this.#version, checkedAt: this.#checkedAt };
  }

  /** For the health endpoint (src/admin/health.ts): read only when asked, nothing here runs per request. */
  status(): DirectoryStatus {
    return {
      version: this.#version,
      activeVersion: this.#activeSeen ?? this.#version,
      checkedAt: this.#checkedAt,
      lastFailure: this.#lastFailure,
      hosts: this.#hosts.size,
      unknownHosts: this.#unknown.size,
    };
  }

  expire(): void {
    if (this.#checkedAt !== null) this.#checkedAt = this.#now() - CONFIG_MAX_STALE_MS;
    this.#retryAt = 0;
  }

  lookup(host: string, background: Background): Tenant | null | Promise<Tenant | null> {
    const key = host.toLowerCase();
    // No configured host is this long (253 for the name, a port): unknown without a read (KV keys stop at 512 bytes).
    if (key.length > MAX_HOST_CHARS) return null;
    const now = this.#now();
    if (this.#checkedAt !== null && now >= this.#retryAt) {
      const age = now - this.#checkedAt;
      // While the store fails, checks go on in the background only (the tenants held stay in use).
      if (age >= CONFIG_MAX_STALE_MS && this.#retryAt === 0) return this.#check().then(() => this.#resolve(key, background));
      if (age >= CONFIG_POLL_MS && Date.now() >= this.#checkingUntil) background(this.#check());
    }
    return this.#resolve(key, background);
  }

  #resolve(host: string, background: Background): Tenant | null | Promise<Tenant | null> {
    const entry = this.#hosts.get(host);
    if (entry) {
      this.#hosts.delete(host);
      this.#hosts.set(host, entry);
      // Whatever the change lists said (or could not say), no copy outlives this age: a data
      // center's cached copy read at the wrong moment is corrected within it.
      if (this.#now() - entry.readAt >= CONFIG_HOST_MAX_AGE_MS && !this.#refreshing.has(host)) {
        this.#refreshing.add(host);
        background(
          this.#read(host)
            .catch(() => undefined)
            .finally(() => this.#refreshing.delete(host)),
        );
      }
      return entry.tenant;
    }
    return this.#read(host);
  }

  /** A cold host: one KV read (bulk, with the active version on an isolate's first). */
  async #read(host: string): Promise<Tenant | null> {
    const startedAt = this.#now();
    const first = this.#version === null;
    const keys = first ? [hostKey(this.#space, host), activeKey(this.#space)] : [hostKey(this.#space, host)];
    let values: Map<string, unknown>;
    try {
      values = await bounded(this.#kv.get(keys, { type: "json", cacheTtl: CONFIG_KV_CACHE_TTL_SECONDS }));
    } catch (error) {
      this.#log({ event: "config-read-failed", host, detail: String(error) });
      this.#lastFailure = { at: startedAt, detail: String(error) };
      throw new ConfigUnavailable("read-failed", `config store read failed: ${String(error)}`);
    }
    if (first) {
      const active = values.get(activeKey(this.#space));
      if (!isActiveRecord(active)) throw new ConfigUnavailable("not-configured", "no config version has been published");
      this.#activeSeen ??= active.version;
      this.#version ??= active.version;
      this.#store ??= active.store;
      this.#checkedAt ??= startedAt;
    }
    const record = values.get(hostKey(this.#space, host)) ?? null;
    const entry = this.#entryFor(host, record, startedAt);
    this.#remember(host, entry);
    const expected = this.#expected.get(host);
    if (expected && startedAt >= expected.until) this.#expected.delete(host);
    else if (expected && entry.recordVersion < expected.version) this.#stale.add(host);
    else this.#expected.delete(host);
    return entry.tenant;
  }

  #entryFor(host: string, record: unknown, readAt: number): HostEntry {
    if (record === null) return { tenant: null, recordVersion: 0, readAt };
    if (!isHostRecord(record)) {
      this.#log({ event: "config-record-invalid", host, detail: "not a host record" });
      return { tenant: null, recordVersion: 0, readAt };
    }
    const id = (record.tenant as { id?: unknown } | null)?.id;
    const revision = `${String(id)}@${record.version}`;
    let tenant = this.#revisions.get(revision) ?? null;
    if (!tenant) {
      try {
        tenant = loadTenant(record.tenant);
      } catch (error) {
        // The store validated it; a record this code cannot read (a newer schema) is served as no tenant, loudly.
        const problems = error instanceof ConfigError ? error.problems : [String(error)];
        this.#log({ event: "config-record-invalid", host, version: record.version, problems });
        return { tenant: null, recordVersion: record.version, readAt };
      }
      this.#revisions.set(revision, tenant);
      if (this.#revisions.size > this.#maxHosts) this.#revisions.delete(this.#revisions.keys().next().value!);
    }
    return { tenant, recordVersion: record.version, readAt };
  }

  /**
   * Keeps `entry`, evicting the least recently used. Hosts no tenant claims have their own,
   * smaller share (CONFIG_ISOLATE_MAX_UNKNOWN_HOSTS), so a flood of made-up Host headers evicts
   * other made-up hosts, never the tenants this isolate serves.
   */
  #remember(host: string, entry: HostEntry): void {
    this.#hosts.delete(host);
    this.#hosts.set(host, entry);
    if (entry.tenant === null) {
      this.#unknown.delete(host);
      this.#unknown.add(host);
      if (this.#unknown.size > this.#maxUnknown) {
        const oldest = this.#unknown.values().next().value!;
        this.#unknown.delete(oldest);
        this.#hosts.delete(oldest);
      }
    }
    if (this.#hosts.size > this.#maxHosts) {
      const oldest = this.#hosts.keys().next().value!;
      this.#hosts.delete(oldest);
      this.#unknown.delete(oldest);
    }
  }

  #forget(host: string): void {
    this.#hosts.delete(host);
    this.#unknown.delete(host);
  }

  /**
   * Reads the active version; when it moved, reads the change lists in between (one bulk read)
   * and forgets the hosts they name. Too far behind, or a list missing: forgets every host.
   */
  async #check(): Promise<void> {
    const startedAt = this.#now();
    this.#checkingUntil = Date.now() + CONFIG_READ_TIMEOUT_MS;
    try {
      const active = await bounded(this.#kv.get(activeKey(this.#space), { type: "json", cacheTtl: CONFIG_KV_CACHE_TTL_SECONDS }));
      if (!isActiveRecord(active)) throw new Error("no config version has been published");
      this.#activeSeen = active.version;
      for (const host of this.#stale) this.#forget(host);
      this.#stale.clear();
      for (const [host, expected] of this.#expected) if (startedAt >= expected.until) this.#expected.delete(host);
      const known = this.#version;
      if (this.#store !== null && active.store !== this.#store) {
        // A recreated store numbers its versions from 1 again: nothing held can be compared.
        this.#forgetAll(known ?? 0, active.version);
        this.#version = active.version;
      } else if (known === null || active.version > known) {
        if (known === null || (await this.#forgetChanged(known, active.version))) this.#version = active.version;
      }
      this.#store = active.store;
      this.#checkedAt = Math.max(this.#checkedAt ?? startedAt, startedAt);
      this.#retryAt = 0;
      this.#lastFailure = null;
    } catch (error) {
      // The tenants this isolate has stay in use; the next poll tries again, never each request.
      this.#log({ event: "config-check-failed", detail: String(error) });
      this.#lastFailure = { at: startedAt, detail: String(error) };
      this.#retryAt = startedAt + CONFIG_POLL_MS;
    } finally {
      this.#checkingUntil = 0;
    }
  }

  /**
   * Forgets the hosts changed after `from` up to `to`; false when a change list is not readable
   * yet (KV orders nothing across keys outside the writer's location): the version stays where
   * it is and the next poll tries again, until CONFIG_EXPECT_CHANGE_MS, then every host goes.
   */
  async #forgetChanged(from: number, to: number): Promise<boolean> {
    if (to - from > CONFIG_MAX_VERSION_GAP) {
      this.#forgetAll(from, to);
      return true;
    }
    const keys = [];
    for (let version = from + 1; version <= to; version++) keys.push(changesKey(this.#space, version));
    const lists = new Map<string, unknown>();
    // Bulk reads take at most 100 keys.
    for (let i = 0; i < keys.length; i += BULK_READ_MAX_KEYS) {
      const part = await bounded(
        this.#kv.get(keys.slice(i, i + BULK_READ_MAX_KEYS), { type: "json", cacheTtl: CONFIG_KV_CACHE_TTL_SECONDS }),
      );
      for (const [key, value] of part) lists.set(key, value);
    }
    const now = this.#now();
    const records = keys.map((key) => lists.get(key));
    if (records.some((list) => !isChangesRecord(list))) {
      this.#listMissingSince ??= now;
      if (now - this.#listMissingSince < CONFIG_EXPECT_CHANGE_MS) {
        this.#log({ event: "config-changes-missing", from, to });
        return false;
      }
      this.#forgetAll(from, to);
      return true;
    }
    this.#listMissingSince = null;
    const until = now + CONFIG_EXPECT_CHANGE_MS;
    for (const list of records as ChangesRecord[]) {
      if (list.hosts === null) {
        this.#forgetAll(from, to);
        return true;
      }
      for (const host of list.hosts) {
        this.#forget(host);
        if (this.#expected.size < this.#maxHosts) this.#expected.set(host, { version: list.version, until });
      }
    }
    this.#log({ event: "config-version", from, to });
    return true;
  }

  #forgetAll(from: number, to: number): void {
    this.#listMissingSince = null;
    this.#hosts.clear();
    this.#unknown.clear();
    this.#revisions.clear();
    this.#log({ event: "config-version", from, to, forgotAll: true });
  }
}

/**
 * How long a changed host's reads are checked against the version that changed it: KV's
 * propagation (about 60 s) plus one `cacheTtl`.
 */
const CONFIG_EXPECT_CHANGE_MS = 90_000;

/** A Host header longer than this is no configured host (253 characters of name, ":" and a port). */
const MAX_HOST_CHARS = 259;

/** KV's bulk read limit. */
const BULK_READ_MAX_KEYS = 100;

/** `promise`, or a rejection after CONFIG_READ_TIMEOUT_MS. */
async function bounded<T>(promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CONFIG_READ_TIMEOUT_MS} ms`)), CONFIG_READ_TIMEOUT_MS)),
  );
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
