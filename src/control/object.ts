import { DurableObject } from "cloudflare:workers";
import {
  CONFIG_CHANGES_TTL_SECONDS,
  CONFIG_KV_WRITES_PER_RUN,
  CONFIG_MAX_CHANGED_HOSTS,
  CONFIG_MAX_TENANT_BYTES,
  CONFIG_MAX_VERSION_GAP,
  CONFIG_VERSIONS_LISTED,
} from "../constants";
import { hostName } from "../tenant/config-host";
import { ConfigError, loadConfig, loadTenant, parseJsonText } from "../tenant/load";
import { secretsNamed, type NamedSecret } from "../tenant/secrets";
import type { Tenant } from "../tenant/types";
import { activeKey, CONFIG_SPACE, changesKey, hostKey, type ActiveRecord, type ChangesRecord } from "./layout";
import { SCHEMA } from "./schema";

/** A secret a tenant names that the Worker does not have. */
export interface MissingSecret {
  readonly tenant: string;
  readonly secret: string;
  readonly field: NamedSecret["field"];
}

/** The answer to every write: the version now active, or why nothing changed. */
export type ConfigWrite =
  | {
      readonly ok: true;
      readonly version: number;
      readonly previousVersion: number;
      /** Tenants added or changed by this version (empty: the document was already active). */
      readonly changed: readonly string[];
      readonly removed: readonly string[];
      /** Whether the edge copy (KV) has this version yet; large pushes publish over several alarm runs. */
      readonly published: boolean;
      readonly publishedVersion: number;
      readonly missingSecrets: readonly MissingSecret[];
      /** Set by a rollback: the version whose document is active again. */
      readonly rolledBackTo?: number;
    }
  | { readonly ok: false; readonly error: "CONFIG_INVALID"; readonly problems: readonly string[] }
  | { readonly ok: false; readonly error: "PLATFORM_NOT_FOUND"; readonly problem: string };

/** `GET /__brim/platform/config`: the active version and its document. */
export interface ConfigSnapshot {
  readonly version: number;
  readonly publishedVersion: number;
  /** ISO time the active version was created; null before the first push. */
  readonly updatedAt: string | null;
  readonly document: { readonly tenants: readonly unknown[] };
  readonly tenants: readonly { id: string; hosts: string[]; version: number; missingSecrets: string[] }[];
  readonly missingSecrets: readonly MissingSecret[];
}

export interface VersionInfo {
  readonly version: number;
  readonly createdAt: string;
  readonly action: string;
  /** Tenants the version added, changed or removed. */
  readonly tenants: readonly string[];
}

/** A tenant as the store keeps it: the accepted JSON (compact), its hosts and the secrets it names. */
interface Accepted {
  readonly body: string;
  readonly position: number;
  readonly hosts: readonly string[];
  readonly secrets: readonly NamedSecret[];
}

type CurrentRow = {
  readonly tenant_id: string;
  readonly version: number;
  readonly position: number;
  readonly body: string;
  readonly secrets: string;
};

/**
 * The deployment's one config writer (one object, named CONFIG_SPACE). Every accepted change is a
 * new version in SQLite: a revision row per tenant it touched, so any earlier version can be
 * rebuilt for a rollback, and a host index that refuses a host two tenants claim. It then
 * publishes to the edge copy in Workers KV (src/control/layout.ts): host records first, then
 * each version's change list, then the active version, so an isolate that sees a version finds
 * everything it names. KV writes wait in an outbox table, so a write survives a restart and a
 * push larger than one invocation's KV budget finishes on alarms.
 */
export class ConfigStore extends DurableObject<Env> {
  #publishing: Promise<void> | null = null;
  /** The object's name, which prefixes its KV keys (src/control/layout.ts). */
  readonly #space: string;
  /** This store's identity, published with the active version (a recreated store has another). */
  #storeId = "";

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#space = ctx.id.name ?? CONFIG_SPACE;
    ctx.blockConcurrencyWhile(async () => {
      for (const statement of SCHEMA) ctx.storage.sql.exec(statement);
      const identity = ctx.storage.sql.exec<{ id: string }>("SELECT id FROM identity").toArray()[0];
      this.#storeId = identity?.id ?? crypto.randomUUID();
      if (!identity) ctx.storage.sql.exec("INSERT INTO identity (id) VALUES (?)", this.#storeId);
    });
  }

  /** `PUT /__brim/platform/config`: the document becomes the whole config. */
  async replaceAll(text: string, now: number): Promise<ConfigWrite> {
    const accepted = acceptDocument(() => parseJsonText(text));
    if (!accepted.ok) return accepted;
    const current = this.#current();
    const removed = [...current.keys()].filter((id) => !accepted.tenants.has(id));
    return this.#commit(accepted.tenants, removed, "replace", now);
  }

  /** `PUT /__brim/platform/tenants/{id}`: adds or replaces one tenant; the others are untouched. */
  async putTenant(id: string, text: string, now: number): Promise<ConfigWrite> {
    let tenant: Tenant;
    let raw: unknown;
    try {
      raw = parseJsonText(text);
      const named = typeof raw === "object" && raw !== null ? (raw as { id?: unknown }).id : undefined;
      if (named !== id) return invalid([`id: expected ${JSON.stringify(id)} (the tenant id in the URL), got ${JSON.stringify(named)}`]);
      tenant = loadTenant(raw);
    } catch (error) {
      if (error instanceof ConfigError) return invalid(error.problems);
      throw error;
    }
    const problems = this.#hostConflicts(tenant);
    const body = JSON.stringify(raw);
    if (body.length > CONFIG_MAX_TENANT_BYTES)
      problems.push(`(root): ${body.length} bytes as compact JSON, over ${CONFIG_MAX_TENANT_BYTES}`);
    if (problems.length > 0) return invalid(problems);
    const position = this.#current().get(id)?.position ?? this.#nextPosition();
    const changes = new Map([[id, { body, position, hosts: tenant.hosts, secrets: secretsNamed(tenant) }]]);
    return this.#commit(changes, [], `put ${id}`, now);
  }

  /** `DELETE /__brim/platform/tenants/{id}`. The last tenant cannot be deleted (push a document instead). */
  async deleteTenant(id: string, now: number): Promise<ConfigWrite> {
    const current = this.#current();
    if (!current.has(id)) return { ok: false, error: "PLATFORM_NOT_FOUND", problem: `no tenant ${JSON.stringify(id)}` };
    if (current.size === 1) return invalid(["tenants: expected at least one tenant (push a new document to replace the last one)"]);
    return this.#commit(new Map(), [id], `delete ${id}`, now);
  }

  /**
   * `POST /__brim/platform/config/rollback`: a new version whose document is version `target`'s,
   * validated again (the schema may have moved on since it was written).
   */
  async rollback(target: number, now: number): Promise<ConfigWrite> {
    const active = this.#meta("active");
    const exists = this.ctx.storage.sql.exec("SELECT 1 FROM versions WHERE version = ?", target).toArray().length > 0;
    if (!exists || target > active) return { ok: false, error: "PLATFORM_NOT_FOUND", problem: `no version ${target}` };
    const rows = this.ctx.storage.sql
      .exec<{ body: string }>(
        `SELECT r.body AS body FROM revisions r
           JOIN (SELECT tenant_id, MAX(version) AS v FROM revisions WHERE version <= ? GROUP BY tenant_id) m
             ON r.tenant_id = m.tenant_id AND r.version = m.v
         WHERE r.body IS NOT NULL ORDER BY r.position`,
        target,
      )
      .toArray();
    const accepted = acceptDocument(() => ({ tenants: rows.map((row) => JSON.parse(row.body) as unknown) }));
    if (!accepted.ok) return accepted;
    const removed = [...this.#current().keys()].filter((id) => !accepted.tenants.has(id));
    const result = await this.#commit(accepted.tenants, removed, `rollback to ${target}`, now);
    return result.ok ? { ...result, rolledBackTo: target } : result;
  }

  /** The active version and its document, with the secrets each tenant names but the Worker lacks. */
  async snapshot(): Promise<ConfigSnapshot> {
    const status = await this.status();
    const bodies = this.ctx.storage.sql.exec<{ body: string }>("SELECT body FROM current ORDER BY position").toArray();
    return { ...status, document: { tenants: bodies.map((row) => JSON.parse(row.body) as unknown) } };
  }

  /** The snapshot without the document: cheap to poll while a large push publishes. */
  async status(): Promise<Omit<ConfigSnapshot, "document">> {
    const sql = this.ctx.storage.sql;
    const version = this.#meta("active");
    const created = sql.exec<{ created_at: number }>("SELECT created_at FROM versions WHERE version = ?", version).toArray()[0];
    const hosts = new Map<string, string[]>();
    for (const row of sql.exec<{ host: string; tenant_id: string }>("SELECT host, tenant_id FROM hosts ORDER BY rowid")) {
      const list = hosts.get(row.tenant_id) ?? [];
      list.push(row.host);
      hosts.set(row.tenant_id, list);
    }
    const rows = sql
      .exec<{ tenant_id: string; version: number; secrets: string }>("SELECT tenant_id, version, secrets FROM current ORDER BY position")
      .toArray();
    const missing = rows.map((row) => this.#missing(row.tenant_id, JSON.parse(row.secrets) as NamedSecret[]));
    return {
      version,
      publishedVersion: this.#meta("published"),
      updatedAt: created ? new Date(created.created_at).toISOString() : null,
      tenants: rows.map((row, i) => ({
        id: row.tenant_id,
        hosts: hosts.get(row.tenant_id) ?? [],
        version: row.version,
        missingSecrets: missing[i]!.map((m) => m.secret),
      })),
      missingSecrets: missing.flat(),
    };
  }

  /** The newest CONFIG_VERSIONS_LISTED versions, newest first. */
  async versions(): Promise<VersionInfo[]> {
    return this.ctx.storage.sql
      .exec<{ version: number; created_at: number; action: string; tenants: string }>(
        "SELECT version, created_at, action, tenants FROM versions ORDER BY version DESC LIMIT ?",
        CONFIG_VERSIONS_LISTED,
      )
      .toArray()
      .map((row) => ({
        version: row.version,
        createdAt: new Date(row.created_at).toISOString(),
        action: row.action,
        tenants: JSON.parse(row.tenants) as string[],
      }));
  }

  /** Publishing continues here when a push needs more KV writes than one invocation may make. */
  override async alarm(): Promise<void> {
    await this.#publish();
  }

  /**
   * Records a new version for the tenants whose JSON differs from the active one and those
   * removed, in one SQLite transaction (all or nothing), then publishes it.
   */
  async #commit(next: ReadonlyMap<string, Accepted>, removing: readonly string[], action: string, now: number): Promise<ConfigWrite> {
    const sql = this.ctx.storage.sql;
    const current = this.#current();
    // Compared as canonical JSON (keys sorted): a document that only reorders keys changes nothing.
    const changed = [...next].filter(([id, tenant]) => !sameJson(current.get(id)?.body, tenant.body)).map(([id]) => id);
    const changedSet = new Set(changed);
    const removed = removing.filter((id) => current.has(id));
    const previous = this.#meta("active");
    if (changed.length === 0 && removed.length === 0) return this.#written(previous, previous, [], [], true);
    const version = previous + 1;
    this.ctx.storage.transactionSync(() => {
      sql.exec(
        "INSERT INTO versions (version, created_at, action, tenants) VALUES (?, ?, ?, ?)",
        version,
        now,
        action,
        JSON.stringify([...changed, ...removed]),
      );
      const affected = new Set<string>();
      // Every old claim first, then the new ones: a host may move between tenants in one version.
      for (const id of [...changed, ...removed]) {
        for (const row of sql.exec<{ host: string }>("SELECT host FROM hosts WHERE tenant_id = ?", id)) affected.add(row.host);
        sql.exec("DELETE FROM hosts WHERE tenant_id = ?", id);
      }
      for (const id of removed) {
        sql.exec(
          "INSERT INTO revisions (tenant_id, version, position, body) VALUES (?, ?, ?, NULL)",
          id,
          version,
          current.get(id)!.position,
        );
        sql.exec("DELETE FROM current WHERE tenant_id = ?", id);
      }
      for (const id of changed) {
        const tenant = next.get(id)!;
        sql.exec(
          "INSERT INTO revisions (tenant_id, version, position, body) VALUES (?, ?, ?, ?)",
          id,
          version,
          tenant.position,
          tenant.body,
        );
        sql.exec(
          "INSERT OR REPLACE INTO current (tenant_id, version, position, body, secrets) VALUES (?, ?, ?, ?, ?)",
          id,
          version,
          tenant.position,
          tenant.body,
          JSON.stringify(tenant.secrets),
        );
        // A plain INSERT: a host two tenants claim (already refused by validation) aborts the whole version.
        for (const host of tenant.hosts) {
          sql.exec("INSERT INTO hosts (host, tenant_id) VALUES (?, ?)", host, id);
          affected.add(host);
        }
      }
      // Unchanged tenants keep their order; a full document also sets it.
      for (const [id, tenant] of next)
        if (!changedSet.has(id)) sql.exec("UPDATE current SET position = ? WHERE tenant_id = ?", tenant.position, id);
      for (const host of affected) {
        const owner = sql
          .exec<{ version: number; body: string }>(
            "SELECT c.version AS version, c.body AS body FROM hosts h JOIN current c ON c.tenant_id = h.tenant_id WHERE h.host = ?",
            host,
          )
          .toArray()[0];
        const value = owner ? `{"version":${owner.version},"tenant":${owner.body}}` : null;
        sql.exec("INSERT OR REPLACE INTO outbox (key, value) VALUES (?, ?)", hostKey(this.#space, host), value);
        sql.exec("INSERT OR IGNORE INTO changes (version, host) VALUES (?, ?)", version, host);
      }
      this.#setMeta("active", version);
    });
    const published = await this.#publish().then(
      () => this.#meta("published") >= version,
      () => false,
    );
    return this.#written(version, previous, changed, removed, published);
  }

  #written(version: number, previous: number, changed: string[], removed: string[], published: boolean): ConfigWrite {
    const missingSecrets = [...this.#current().values()].flatMap((row) =>
      this.#missing(row.tenant_id, JSON.parse(row.secrets) as NamedSecret[]),
    );
    return {
      ok: true,
      version,
      previousVersion: previous,
      changed,
      removed,
      published,
      publishedVersion: this.#meta("published"),
      missingSecrets,
    };
  }

  /** One publisher at a time; a write that arrives meanwhile is picked up by the running one. */
  #publish(): Promise<void> {
    this.#publishing ??= this.#drain().finally(() => (this.#publishing = null));
    return this.#publishing;
  }

  /**
   * Writes the outbox to KV in batches, at most CONFIG_KV_WRITES_PER_RUN per invocation (an
   * alarm continues), then the change lists of every unpublished version, then the active
   * version. A failed write is retried by an alarm; the outbox row stays until KV took it.
   */
  async #drain(): Promise<void> {
    const sql = this.ctx.storage.sql;
    const kv = this.env.CONFIG_KV;
    try {
      let written = 0;
      // Until nothing is left: a write committed while this runs (a Durable Object takes other
      // requests during outgoing I/O) is published by this same run, never left behind.
      for (;;) {
        const rows = sql
          .exec<{ key: string; value: string | null; seq: number }>(
            "SELECT key, value, rowid AS seq FROM outbox ORDER BY rowid LIMIT ?",
            Math.min(OUTBOX_BATCH, CONFIG_KV_WRITES_PER_RUN - written),
          )
          .toArray();
        if (rows.length > 0) {
          await Promise.all(rows.map((row) => (row.value === null ? kv.delete(row.key) : kv.put(row.key, row.value))));
          // Only what KV took, and only if no newer write replaced the row meanwhile.
          for (const row of rows) sql.exec("DELETE FROM outbox WHERE rowid = ? AND key = ? AND value IS ?", row.seq, row.key, row.value);
          written += rows.length;
          if (written >= CONFIG_KV_WRITES_PER_RUN) {
            await this.ctx.storage.setAlarm(Date.now() + CONTINUE_AFTER_MS);
            return;
          }
          continue;
        }
        const active = this.#meta("active");
        const published = this.#meta("published");
        if (active <= published) return;
        // Isolates further behind than CONFIG_MAX_VERSION_GAP forget everything instead.
        for (let version = Math.max(published + 1, active - CONFIG_MAX_VERSION_GAP + 1); version <= active; version++) {
          const hosts = sql.exec<{ host: string }>("SELECT host FROM changes WHERE version = ?", version).toArray();
          const record: ChangesRecord = { version, hosts: hosts.length > CONFIG_MAX_CHANGED_HOSTS ? null : hosts.map((row) => row.host) };
          await kv.put(changesKey(this.#space, version), JSON.stringify(record), { expirationTtl: CONFIG_CHANGES_TTL_SECONDS });
        }
        // A write that landed during those puts has outbox rows: they go first, then its own `active`.
        if (sql.exec("SELECT 1 FROM outbox LIMIT 1").toArray().length > 0) continue;
        const record: ActiveRecord = { version: active, store: this.#storeId, publishedAt: Date.now() };
        await kv.put(activeKey(this.#space), JSON.stringify(record));
        this.ctx.storage.transactionSync(() => {
          this.#setMeta("published", active);
          sql.exec("DELETE FROM changes WHERE version <= ?", active);
        });
      }
    } catch (error) {
      console.log(JSON.stringify({ event: "config-publish-failed", detail: String(error) }));
      await this.ctx.storage.setAlarm(Date.now() + RETRY_AFTER_MS);
      throw error;
    }
  }

  /** Tenant id → its current row. */
  #current(): Map<string, CurrentRow> {
    const rows = this.ctx.storage.sql.exec<CurrentRow>("SELECT tenant_id, version, position, body, secrets FROM current").toArray();
    return new Map(rows.map((row) => [row.tenant_id, row]));
  }

  #nextPosition(): number {
    const row = this.ctx.storage.sql.exec<{ p: number | null }>("SELECT MAX(position) AS p FROM current").toArray()[0];
    return (row?.p ?? -1) + 1;
  }

  /**
   * `hosts[i]: ...` for each host of `tenant` whose name another tenant already claims, on any
   * port (ownership is by name: src/tenant/config-host.ts `hostName`).
   */
  #hostConflicts(tenant: Tenant): string[] {
    return tenant.hosts.flatMap((host, index) => {
      const name = hostName(host);
      const owner = this.ctx.storage.sql
        .exec<{ host: string; tenant_id: string }>(
          "SELECT host, tenant_id FROM hosts WHERE (host = ? OR substr(host, 1, ?) = ?) AND tenant_id != ? LIMIT 1",
          name,
          name.length + 1,
          `${name}:`,
          tenant.id,
        )
        .toArray()[0];
      if (!owner) return [];
      return [
        owner.host === host
          ? `hosts[${index}]: host ${JSON.stringify(host)} is already claimed by tenant ${JSON.stringify(owner.tenant_id)}`
          : `hosts[${index}]: host ${JSON.stringify(host)}: ${JSON.stringify(name)} (on any port) is already claimed by tenant ${JSON.stringify(owner.tenant_id)}`,
      ];
    });
  }

  #missing(tenant: string, secrets: readonly NamedSecret[]): MissingSecret[] {
    const env = this.env as unknown as Record<string, unknown>;
    return secrets
      .filter(({ secret }) => typeof env[secret] !== "string" || env[secret] === "")
      .map(({ secret, field }) => ({ tenant, secret, field }));
  }

  #meta(name: "active" | "published"): number {
    return this.ctx.storage.sql.exec<{ value: number }>("SELECT value FROM meta WHERE name = ?", name).toArray()[0]?.value ?? 0;
  }

  #setMeta(name: "active" | "published", value: number): void {
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", name, value);
  }
}

/** KV writes in flight at once while publishing. */
const OUTBOX_BATCH = 50;
/** A push past one invocation's KV budget continues this soon, on an alarm. */
const CONTINUE_AFTER_MS = 10;
/** A failed KV write is retried this much later. */
const RETRY_AFTER_MS = 5_000;

/** Whether two JSON texts hold the same value, whatever the order of object keys. */
function sameJson(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  return a === b || canonical(JSON.parse(a)) === canonical(JSON.parse(b));
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}

function invalid(problems: readonly string[]): ConfigWrite {
  return { ok: false, error: "CONFIG_INVALID", problems };
}

/** A whole document, validated as `npm start` validates a file, keyed by tenant id. */
function acceptDocument(read: () => unknown): { ok: true; tenants: Map<string, Accepted> } | Extract<ConfigWrite, { ok: false }> {
  try {
    const raw = read();
    const config = loadConfig(raw);
    const documents = (raw as { tenants: unknown[] }).tenants;
    const tenants = new Map<string, Accepted>();
    const problems: string[] = [];
    config.tenants.forEach((tenant, index) => {
      const body = JSON.stringify(documents[index]);
      if (body.length > CONFIG_MAX_TENANT_BYTES)
        problems.push(`tenants[${index}]: ${body.length} bytes as compact JSON, over ${CONFIG_MAX_TENANT_BYTES}`);
      tenants.set(tenant.id, { body, position: index, hosts: tenant.hosts, secrets: secretsNamed(tenant) });
    });
    return problems.length > 0 ? (invalid(problems) as Extract<ConfigWrite, { ok: false }>) : { ok: true, tenants };
  } catch (error) {
    if (error instanceof ConfigError) return invalid(error.problems) as Extract<ConfigWrite, { ok: false }>;
    throw error;
  }
}
