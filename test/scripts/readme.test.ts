/** README.md is the newcomer's page (STYLE.md point 13): short, with a config that loads and links that resolve. */
import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { loadTenant, parseConfigText } from "../../src/tenant/load";

const root = new URL("../../", import.meta.url);

describe("README.md", () => {
  const readme = readFileSync(new URL("README.md", root), "utf8");

  it("stays a newcomer's page, well under 10 KB (the manual is docs/)", () => {
    expect(Buffer.byteLength(readme)).toBeLessThan(8 * 1024);
  });

  it("has a minimal config that loads", () => {
    const json = /```json\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(json).toBeDefined();
    expect(parseConfigText(json ?? "").tenants.length).toBeGreaterThan(0);
  });

  it("links only to files that exist", () => {
    for (const [, target] of readme.matchAll(/\]\(((?!https?:)[^)#]+)/g)) {
      expect(() => readFileSync(new URL(target ?? "", root)), target).not.toThrow();
    }
  });

  it("walks through with the demo's own tokens and a tenant file that loads", () => {
    const demo = parseEnv(readFileSync(new URL("fixtures/demo.env", root), "utf8"));
    expect(readme).toContain(`export BRIM_PLATFORM_TOKEN=${demo.BRIM_PLATFORM_TOKEN}`);
    expect(readme).toContain(`Authorization: Bearer ${demo.DEMO_ACME_ADMIN_TOKEN}`);
    const tenant = loadTenant(JSON.parse(readFileSync(new URL("fixtures/demo-tenant.json", root), "utf8")));
    expect(readme).toContain(`Host: ${tenant.hosts[0]}`);
  });
});
