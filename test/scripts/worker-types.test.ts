/**
 * worker-configuration.d.ts is generated (`npm run types`) and committed, so the typecheck in
 * `npm test` needs no wrangler step. `wrangler types --check` says whether it still matches
 * wrangler.toml (bindings and vars, by hash) and the installed workerd, compatibility date and
 * flags (its runtime header), offline. It does not read the body: hand edits are kept out by
 * .gitattributes marking the file generated, not by this test.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const NODE = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const WRANGLER = fileURLToPath(new URL("../../node_modules/wrangler/bin/wrangler.js", import.meta.url));

describe("worker-configuration.d.ts", () => {
  it("is up to date with wrangler.toml and the installed workerd (run `npm run types` after changing either)", () => {
    // The flags are read back from the file's own header, so `--strict-vars=false` need not be repeated.
    const result = spawnSync(NODE, [WRANGLER, "types", "--check"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" },
    });
    expect(`${result.stdout}${result.stderr}`).toMatch(/Types at worker-configuration\.d\.ts are up to date/);
    expect(result.status).toBe(0);
  });
});
