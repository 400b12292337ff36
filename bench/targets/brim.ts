/**
 * Brim under `wrangler dev`. The Worker is bundled once at start (`wrangler deploy --dry-run`)
 * and wrangler serves that snapshot with `--no-bundle`, so edits to src/ during a run cannot
 * reload the Worker and empty its cache halfway through a measurement. With `--brim-ref REF`
 * the snapshot is built from `git archive REF` instead of the working tree. Once wrangler
 * answers, the bench tenants are pushed through the platform API (the config store starts
 * empty in the run's fresh state directory).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../lib/paths";
import { benchKeys } from "../lib/auth-keys";
import { freePort, runChild } from "../lib/procs";
import { bundleWorker } from "./bundle";
import { PlatformClient } from "../../scripts/lib/platform";
import { readBrimCosts } from "../lib/costs";
import { BENCH_ADMIN_TOKEN_ENV, benchTenants, brimAuthHost } from "./brim-config";
import { startWorker } from "./wrangler";
import type { TargetContext, TargetDef } from "./types";

const GIT_TIMEOUT_MS = 60_000;
/** Locally the edge copy is written with the push; this bounds a surprise. */
const PUBLISH_WAIT_MS = 30_000;

export const brim: TargetDef = {
  id: "brim",
  label: "Brim",
  packages: [],
  async start(context) {
    const bundle = await brimBundle(context);
    // That tree's wrangler.toml (bindings, compatibility), pointed at the snapshot.
    const config = join(context.tmp, "brim-wrangler.toml");
    const toml = readFileSync(join(bundle.source, "wrangler.toml"), "utf8").replace(
      /^main\s*=.*$/m,
      `main = ${JSON.stringify(bundle.script)}`,
    );
    writeFileSync(config, toml);
    // The tenants file names the host, port included, so choose the port before wrangler starts.
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const secrets = brimSecrets();
    const target = await startWorker(context, {
      id: "brim",
      label: "Brim",
      reference: false,
      config,
      noBundle: true,
      port,
      vars: secrets.vars,
      notes: brimNotes(context, port),
      readyPath: "/",
      readyHost: BRIM_PROBE_HOST,
    });
    try {
      await pushBenchTenants(context, host, port, secrets.platformToken);
    } catch (error) {
      await target.stop();
      throw error;
    }
    return { ...target, costs: () => readBrimCosts(host, secrets.adminToken), costSource: { host, adminToken: secrets.adminToken } };
  },
};

/** A Host no tenant has: Brim answers it at once, without the origin (readiness probes). */
export const BRIM_PROBE_HOST = "brim-probe.invalid";

export interface BrimBundle {
  /** The source tree (the working tree, or `git archive REF`). */
  readonly source: string;
  /** The bundled entry (src/index.ts), built once per run. */
  readonly script: string;
}

const bundles = new Map<string, Promise<BrimBundle>>();

/** Brim bundled once per run (and per checkout): every Brim target runs the same snapshot. */
export function brimBundle(context: TargetContext): Promise<BrimBundle> {
  let bundle = bundles.get(context.tmp);
  if (!bundle) {
    bundle = (async () => {
      const source = context.brimRef ? await checkout(context, context.brimRef) : ROOT;
      const script = await bundleWorker("brim", source, join(source, "wrangler.toml"), join(context.tmp, "brim-bundle"));
      return { source, script };
    })();
    bundles.set(context.tmp, bundle);
  }
  return bundle;
}

/** Fresh platform and admin tokens for one Brim target, and the Worker vars that carry them. */
export function brimSecrets(): { platformToken: string; adminToken: string; vars: Record<string, string> } {
  const platformToken = randomBytes(24).toString("base64url");
  const adminToken = randomBytes(24).toString("base64url");
  return { platformToken, adminToken, vars: { BRIM_PLATFORM_TOKEN: platformToken, [BENCH_ADMIN_TOKEN_ENV]: adminToken } };
}

export function brimNotes(context: TargetContext, port: number): string[] {
  return [
    `${describeSource(context.brimRef)}; routes /b/swr/* {ttl 1, swr 30}, /b/* {ttl 60}, origin headers win`,
    "bench tenant with an `admin` block: cost metrics are differences of its `/__brim/stats` totals",
    `auth scenario: tenant on ${brimAuthHost(port).replace(/:\d+$/, "")} with one inline ES256 key (no JWKS, no revocation list)`,
  ];
}

/** Pushes the bench tenants through the platform API of the Brim on `host` and waits until they are published. */
export async function pushBenchTenants(context: TargetContext, host: string, port: number, platformToken: string): Promise<void> {
  try {
    const keys = await benchKeys();
    const client = new PlatformClient({ url: `http://${host}`, token: platformToken });
    const pushed = await client.putConfig(benchTenants(host, context.origin.url, port, keys.publicJwk));
    if (!pushed.published && !(await client.waitForPublished(pushed.version, PUBLISH_WAIT_MS))) {
      throw new Error(`config version ${pushed.version} not published within ${PUBLISH_WAIT_MS / 1000} s`);
    }
  } catch (error) {
    throw new Error(`brim: cannot push the bench tenants: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** `git archive REF` into the temp dir, sharing this checkout's node_modules. */
async function checkout(context: TargetContext, ref: string): Promise<string> {
  const dir = join(context.tmp, "brim-src");
  mkdirSync(dir, { recursive: true });
  const tar = join(context.tmp, "brim-src.tar");
  const archive = await runChild("git", ["archive", "--format=tar", "-o", tar, ref], GIT_TIMEOUT_MS, { cwd: ROOT });
  if (archive.code !== 0) throw new Error(`brim: git archive ${ref} failed: ${archive.stderr.trim()}`);
  const untar = await runChild("tar", ["-xf", tar, "-C", dir], GIT_TIMEOUT_MS);
  if (untar.code !== 0) throw new Error(`brim: cannot unpack ${ref}: ${untar.stderr.trim()}`);
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/** "src at abc1234", with "+ uncommitted changes" when the working tree differs, so numbers tie to code. */
function describeSource(ref: string | null): string {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
    if (ref) return `src at ${git("rev-parse", "--short", ref)} (git archive ${ref})`;
    const dirty = git("status", "--porcelain", "--", "src", "wrangler.toml");
    return `src at ${git("rev-parse", "--short", "HEAD")}${dirty ? " + uncommitted changes (working tree)" : ""}`;
  } catch {
    return "src at an unknown commit";
  }
}
