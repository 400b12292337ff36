/**
 * Installs missing Debian packages (nginx, varnish, wrk) with apt-get, once per run: one
 * `apt-get update`, then one `apt-get install -y`. Never in smoke mode. Returns a note instead
 * of throwing, so a target that cannot be had is skipped, not fatal.
 */
import { spawnSync } from "node:child_process";
import { runChild } from "./procs";

const UPDATE_TIMEOUT_MS = 180_000;
const INSTALL_TIMEOUT_MS = 600_000;

export function isInstalled(pkg: string): boolean {
  const query = spawnSync("dpkg-query", ["-W", "-f=${Status}", pkg], { encoding: "utf8" });
  return query.status === 0 && query.stdout.includes("install ok installed");
}

/** Installs what is missing of `packages`; resolves to null on success, or why not. */
export async function ensurePackages(packages: readonly string[], log: (line: string) => void): Promise<string | null> {
  const missing = packages.filter((pkg) => !isInstalled(pkg));
  if (missing.length === 0) return null;
  if (process.getuid?.() !== 0) return `not root, cannot apt-get install ${missing.join(" ")}`;
  const options = { env: { DEBIAN_FRONTEND: "noninteractive" }, untracked: true };
  log(`apt-get update, then apt-get install -y ${missing.join(" ")}`);
  const update = await runChild("apt-get", ["update"], UPDATE_TIMEOUT_MS, options);
  if (update.code !== 0) return `apt-get update failed: ${lastLine(update.stderr)}`;
  const install = await runChild("apt-get", ["install", "-y", "--no-install-recommends", ...missing], INSTALL_TIMEOUT_MS, options);
  if (install.code === 0) return null;
  // One package may be the problem (e.g. the brotli module): try each alone.
  const failed: string[] = [];
  for (const pkg of missing) {
    const single = await runChild("apt-get", ["install", "-y", "--no-install-recommends", pkg], INSTALL_TIMEOUT_MS, options);
    if (single.code !== 0) failed.push(`${pkg} (${lastLine(single.stderr)})`);
  }
  return failed.length ? `apt-get install failed: ${failed.join("; ")}` : null;
}

function lastLine(text: string): string {
  return text.trim().split("\n").pop() ?? "";
}
