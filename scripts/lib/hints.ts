/** The "try these" lines `npm start` prints once Brim answers. */
import type { BrimConfig } from "../../src/tenant/types";

const MAX_TENANT_HINTS = 3;

/** A few `curl -si` lines: the demo walk-through, or each tenant's front page. */
export function tryThese(config: BrimConfig, port: number, demo: boolean): string {
  const base = `http://127.0.0.1:${port}`;
  const lines = demo ? demoLines(base, port) : configLines(config, base);
  return [
    `brim: ready on ${base}`,
    "Try:",
    ...lines.map(([command, comment]) => `  ${command.padEnd(84)} # ${comment}`),
    "Watch the Cache-Status header; the origin logs every request that reaches it. Ctrl-C stops.",
  ].join("\n");
}

function demoLines(base: string, port: number): [string, string][] {
  const item = `${base}/api/catalog/1`;
  return [
    [`curl -si ${item}`, "miss: fetched from the origin"],
    [`curl -si ${item}`, "hit: same URL again, the origin sees nothing"],
    [`sleep 11; curl -si ${item}`, "stale: past max-age=10, served while revalidating"],
    [`curl -si -H 'Host: globex.localhost:${port}' ${item}`, "another tenant, its own content and cache"],
    [`curl -si ${base}/admin/stats`, "cache: false, always reaches the origin"],
  ];
}

function configLines(config: BrimConfig, base: string): [string, string][] {
  return config.tenants
    .slice(0, MAX_TENANT_HINTS)
    .map((tenant) => [`curl -si -H 'Host: ${tenant.hosts[0]}' ${base}/`, `tenant ${tenant.id}`]);
}
