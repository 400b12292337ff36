import type { Hono } from "hono";
import { createBrim } from "./app";
import type { AppEnv } from "./env";
import { errorResponse } from "./errors";
import { ConfigError, parseConfigText } from "./tenant/load";

/**
 * Worker entry. The tenants file arrives as the `BRIM_CONFIG` var (validated before upload by
 * `npm start` / `npm run deploy`); it is parsed once per isolate, never per request.
 */
let built: { source: string; app: Hono<AppEnv> | null } | null = null;

function appFor(env: Env): Hono<AppEnv> | null {
  const source = env.BRIM_CONFIG ?? "";
  if (built?.source === source) return built.app;
  let app: Hono<AppEnv> | null = null;
  if (source.trim()) {
    try {
      app = createBrim({
        config: parseConfigText(source),
        coalescer: env.COALESCER,
        revocations: env.REVOCATIONS,
        purgeLog: env.PURGE_LOG,
        statsLog: env.STATS_LOG,
      });
    } catch (error) {
      const problems = error instanceof ConfigError ? error.problems : [String(error)];
      console.error(JSON.stringify({ event: "config-invalid", problems }));
    }
  } else {
    console.error(JSON.stringify({ event: "config-missing", detail: "BRIM_CONFIG is empty" }));
  }
  built = { source, app };
  return app;
}

export default {
  fetch(request, env, ctx) {
    const app = appFor(env);
    if (!app) return errorResponse("NOT_CONFIGURED");
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;

export { createBrim } from "./app";
export { Coalescer } from "./coalesce/object";
export { RevocationList } from "./auth/revocation/object";
export { PurgeLog } from "./purge/object";
export { StatsLog } from "./stats/object";
