/** Where things are: the repository, its binaries, and where results go. */
import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BENCH_DIR = join(ROOT, "bench");
export const RESULTS_DIR = join(BENCH_DIR, "results");
export const BENCHMARKS_MD = join(ROOT, "BENCHMARKS.md");
/** node_modules/.bin: Node 22, wrangler, tsx. Put first on every child's PATH. */
export const BIN_DIR = join(ROOT, "node_modules", ".bin");
export const TSX = join(BIN_DIR, "tsx");
export const WRANGLER = join(BIN_DIR, "wrangler");

/** The environment for children: Node 22 first on PATH, wrangler offline and quiet. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${BIN_DIR}:${process.env.PATH ?? ""}`,
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true",
    ...extra,
  };
}
