/**
 * Worker bundles for the bench, built with wrangler's own bundler (`wrangler deploy --dry-run
 * --outdir`), so wrangler dev (`--no-bundle`) and Miniflare run exactly the code a deploy would
 * upload. Each bundle is built once per run, however many targets use it.
 */
import { join } from "node:path";
import { WRANGLER } from "../lib/paths";
import { runChild } from "../lib/procs";

const BUNDLE_TIMEOUT_MS = 120_000;

const built = new Map<string, Promise<string>>();

/**
 * Bundles the Worker of wrangler config `config` (run in `cwd`) into `outDir`; resolves with the
 * entry module's path (`<outDir>/index.js`, other modules such as .wasm beside it).
 */
export function bundleWorker(id: string, cwd: string, config: string, outDir: string): Promise<string> {
  const key = `${cwd}|${config}|${outDir}`;
  let promise = built.get(key);
  if (!promise) {
    promise = (async () => {
      const build = await runChild(WRANGLER, ["deploy", "--dry-run", "--config", config, "--outdir", outDir], BUNDLE_TIMEOUT_MS, { cwd });
      if (build.code !== 0) throw new Error(`${id}: wrangler deploy --dry-run failed:\n${(build.stdout + build.stderr).slice(-2_000)}`);
      return join(outDir, "index.js");
    })();
    built.set(key, promise);
  }
  return promise;
}
