/**
 * The ConfigStore's SQLite tables.
 * - versions: one row per accepted change (what it did, which tenants).
 * - revisions: a tenant's JSON as of a version (NULL body: removed); any version's document is
 *   the latest revision of each tenant at or below it, which is what a rollback rebuilds.
 * - current: the active document, one row per tenant, with the secrets it names.
 * - hosts: which tenant claims each host (PRIMARY KEY: two tenants can never claim one).
 * - outbox: KV writes not yet made (NULL value: delete); changes: hosts changed per unpublished version.
 * - meta: "active" (newest version) and "published" (newest version fully in KV).
 * - identity: a random id made once, published with `active` (isolates notice a recreated store).
 */
export const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS versions (
     version INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, action TEXT NOT NULL, tenants TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS revisions (
     tenant_id TEXT NOT NULL, version INTEGER NOT NULL, position INTEGER NOT NULL, body TEXT,
     PRIMARY KEY (tenant_id, version))`,
  `CREATE TABLE IF NOT EXISTS current (
     tenant_id TEXT PRIMARY KEY, version INTEGER NOT NULL, position INTEGER NOT NULL, body TEXT NOT NULL, secrets TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS hosts (host TEXT PRIMARY KEY, tenant_id TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS hosts_by_tenant ON hosts (tenant_id)`,
  `CREATE TABLE IF NOT EXISTS outbox (key TEXT PRIMARY KEY, value TEXT)`,
  `CREATE TABLE IF NOT EXISTS changes (version INTEGER NOT NULL, host TEXT NOT NULL, PRIMARY KEY (version, host))`,
  `CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS identity (id TEXT NOT NULL)`,
] as const;
