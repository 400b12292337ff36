/** The lines `npm start` prints once Brim answers and its config is in the store. */
import type { BrimConfig } from "../../src/tenant/types";
import { DEFAULT_PLATFORM_URL } from "./platform";

const MAX_TENANT_HINTS = 3;
const COMMAND_WIDTH = 84;

export interface ReadyInfo {
  readonly config: BrimConfig;
  readonly port: number;
  readonly demo: boolean;
  /** The config version the push made active. */
  readonly version: number;
  /** The Worker's secrets as wrangler dev got them (the demo's admin tokens are shown). */
  readonly secrets: Readonly<Record<string, string>>;
  /** fixtures/demo-tenant.json names the default ports: offer it only when they are in use. */
  readonly defaultPorts: boolean;
}

/** `brim: ready on ...` and a few commands to try: the demo walk-through, or each tenant's front page. */
export function tryThese(info: ReadyInfo): string {
  const base = `http://127.0.0.1:${info.port}`;
  const lines = info.demo ? demoLines(base, info) : configLines(info.config, base);
  const url = base === DEFAULT_PLATFORM_URL ? "" : ` --url ${base}`;
  lines.push([`npm run config -- show${url}`, "the active config version, its tenants, missing secrets"]);
  if (info.demo && info.defaultPorts) {
    lines.push(["npm run config -- push-tenant fixtures/demo-tenant.json", "a new version: tenant globex-eu joins"]);
    lines.push([`curl -si -H 'Host: eu.globex.localhost:${info.port}' ${item(base)}`, "globex-eu answers"]);
    lines.push([`npm run config -- rollback ${info.version}`, `back to version ${info.version}'s config: globex-eu is gone (421)`]);
  }
  return [
    `brim: ready on ${base} (config version ${info.version})`,
    "Try:",
    ...lines.map(([command, comment]) => `  ${command.padEnd(COMMAND_WIDTH)} # ${comment}`),
    "Watch the Cache-Status header; the origin logs every request that reaches it. Ctrl-C stops.",
  ].join("\n");
}

function demoLines(base: string, info: ReadyInfo): [string, string][] {
  const admin = `-H 'Authorization: Bearer ${info.secrets.DEMO_ACME_ADMIN_TOKEN ?? "$DEMO_ACME_ADMIN_TOKEN"}'`;
  return [
    [`curl -si ${item(base)}`, "miss: fetched from the origin"],
    [`curl -si ${item(base)}`, "hit: same URL again, the origin sees nothing"],
    [`sleep 11; curl -si ${item(base)}`, "stale: past max-age=10, served while revalidating"],
    [`curl -si -H 'Host: globex.localhost:${info.port}' ${item(base)}`, "another tenant, its own content and cache"],
    [`curl -si ${base}/admin/stats`, "cache: false, always reaches the origin"],
    [`curl -s ${admin} ${base}/__brim/stats`, "acme's stats (its demo admin token)"],
    [`open ${base}/__brim/login`, "acme's stats page in a browser: log in with the same token"],
    [`curl -s ${admin} -d '{"prefixes":["/api/"]}' ${base}/__brim/purge`, "purge acme's /api/: the next request is a miss"],
  ];
}

function item(base: string): string {
  return `${base}/api/catalog/1`;
}

function configLines(config: BrimConfig, base: string): [string, string][] {
  return config.tenants
    .slice(0, MAX_TENANT_HINTS)
    .map((tenant) => [`curl -si -H 'Host: ${tenant.hosts[0]}' ${base}/`, `tenant ${tenant.id}`]);
}
