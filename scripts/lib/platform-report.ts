/** What the scripts print about the platform API's answers and failures (scripts/lib/platform.ts). */
import { type MissingSecret, PLATFORM_TOKEN_ENV, type PlatformError, type WriteResult } from "./platform";

/**
 * One line saying what a write did, e.g.
 * `version 7 active (was 6); changed: acme; published to the edge`.
 * `published` overrides the answer's flag (after `waitForPublished`).
 */
export function describeWrite(result: WriteResult, published = result.published): string {
  if (result.version === result.previousVersion) return `no change; version ${result.version} stays active`;
  const parts = [`version ${result.version} active (was ${result.previousVersion})`];
  if (result.changed.length > 0) parts.push(`changed: ${result.changed.join(", ")}`);
  if (result.removed.length > 0) parts.push(`removed: ${result.removed.join(", ")}`);
  parts.push(published ? "published to the edge" : "not yet published to the edge");
  return parts.join("; ");
}

/** One line per secret the Worker lacks: `tenant acme: DEMO_ADMIN_TOKEN (admin.tokenEnv)`. */
export function missingSecretLines(missing: readonly MissingSecret[]): string[] {
  return missing.map(({ tenant, secret, field }) => `tenant ${tenant}: ${secret} (${field})`);
}

/**
 * What went wrong, for a person: the error's message, then what to do about it. `url` is the
 * Worker's base URL as the user gave it.
 */
export function explainPlatformError(error: PlatformError, url: string): string[] {
  switch (error.code) {
    case "PLATFORM_UNAUTHORIZED":
      return [
        `${url} refused the platform token (401): ${PLATFORM_TOKEN_ENV} must equal the Worker's secret of that name`,
        "(npm start prints the one it uses: export BRIM_PLATFORM_TOKEN=...)",
      ];
    case "PLATFORM_NOT_CONFIGURED":
      return [
        `${url} has no ${PLATFORM_TOKEN_ENV} secret, so its platform API is off (503)`,
        `set it with: npx wrangler secret put ${PLATFORM_TOKEN_ENV} (locally: in the --env-file file or .dev.vars)`,
      ];
    case "CONFIG_INVALID":
      return ["the Worker refused the config (400):", ...error.problems.map((problem) => `  ${problem}`)];
    case "UNREACHABLE":
      return [error.message, "is Brim running there? (npm start, or pass --url)"];
    case "BAD_RESPONSE":
      return [error.message, "is that a Brim Worker with the platform API? (check --url)"];
    case "PLATFORM_NOT_FOUND":
      return [error.message, "(a Worker without the CONFIG_STORE binding answers 404 to every platform request)"];
    case "REFUSED":
      return [error.message];
  }
}
