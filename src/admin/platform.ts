/**
 * The platform API (`/__brim/platform/*`): the operator's, not a tenant's. Answered on any
 * Host, before tenant routing, never proxied or cached. The bearer token is the Worker secret
 * BRIM_PLATFORM_TOKEN (hono/bearer-auth, compared in constant time); unset, every request is
 * `503` and logged, so a missing secret is never mistaken for a wrong token.
 *
 *   GET    /config               the active version, its document, missing secrets
 *   GET    /config/status        the same without the document (cheap to poll)
 *   PUT    /config               a tenants document replaces the whole config
 *   PUT    /tenants/{id}         one tenant added or replaced; the others untouched
 *   DELETE /tenants/{id}
 *   POST   /config/rollback      { "version": N }: a new version with version N's document
 *   GET    /config/versions      the newest versions, newest first
 */
import { Hono, type Context } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { PLATFORM_MAX_BODY_BYTES } from "../constants";
import type { ConfigSnapshot, ConfigStore, ConfigWrite } from "../control/object";
import type { TenantDirectory } from "../tenant/directory";
import { bodyTooLarge, jsonAnswer, jsonFailure } from "./respond";
import { adminTokenMatches } from "./token";

/** Options of `platformApp`. */
export interface PlatformOptions {
  /** The ConfigStore namespace; null: every platform endpoint is 404. */
  readonly store: DurableObjectNamespace<ConfigStore> | null;
  /** The ConfigStore object's name (the config space, src/control/layout.ts). */
  readonly space: string;
  /** This isolate's view, reported by `GET /config` and told when a write lands here. */
  readonly directory: TenantDirectory;
  /** Epoch ms. */
  readonly now: () => number;
  readonly log: (event: Record<string, unknown>) => void;
}

type PlatformEnv = { Bindings: Env };

/** RFC 6750 §3: the challenge on every refusal of the platform token (here and in ./health.ts). */
export const PLATFORM_CHALLENGE = 'Bearer realm="brim platform"';
const CHALLENGE = PLATFORM_CHALLENGE;

export function platformApp({ store, space, directory, now, log }: PlatformOptions): Hono<PlatformEnv> {
  const platform = new Hono<PlatformEnv>();
  if (!store) {
    platform.all("*", () => jsonFailure("PLATFORM_NOT_FOUND"));
    return platform;
  }
  const stub = () => store.get(store.idFromName(space));

  platform.use(async function platformToken(c, next) {
    if (typeof tokenOf(c) !== "string" || tokenOf(c) === "") {
      log({ event: "platform-not-configured", detail: "Worker secret BRIM_PLATFORM_TOKEN is not set" });
      return jsonFailure("PLATFORM_NOT_CONFIGURED");
    }
    await next();
  });
  const refused = () => {
    log({ event: "platform-unauthorized" });
    return jsonFailure("PLATFORM_UNAUTHORIZED", {}, { "www-authenticate": CHALLENGE });
  };
  platform.use(
    bearerAuth<PlatformEnv>({
      verifyToken: (token, c) => adminTokenMatches(`Bearer ${token}`, tokenOf(c)),
      noAuthenticationHeader: { message: refused, wwwAuthenticateHeader: CHALLENGE },
      invalidAuthenticationHeader: { message: refused, wwwAuthenticateHeader: CHALLENGE },
      invalidToken: { message: refused, wwwAuthenticateHeader: CHALLENGE },
    }),
  );
  const limit = bodyLimit({ maxSize: PLATFORM_MAX_BODY_BYTES, onError: bodyTooLarge(PLATFORM_MAX_BODY_BYTES) });

  const answer = (result: ConfigWrite, action: string): Response => {
    if (!result.ok) {
      log({ event: "config-refused", action, error: result.error });
      return result.error === "CONFIG_INVALID"
        ? jsonFailure("CONFIG_INVALID", { problems: result.problems })
        : jsonFailure("PLATFORM_NOT_FOUND", { problem: result.problem });
    }
    if (result.version !== result.previousVersion) {
      log({ event: "config-write", action, version: result.version, changed: result.changed, removed: result.removed });
      // This isolate checks the new version on its next request instead of at its next poll.
      directory.expire();
    }
    return jsonAnswer(200, result);
  };

  platform.get("/config", async () => {
    const snapshot = (await stub().snapshot()) as ConfigSnapshot;
    return jsonAnswer(200, { ok: true, ...snapshot, edge: directory.state() });
  });
  platform.put("/config", limit, async (c) => answer(await stub().replaceAll(await c.req.text(), now()), "replace"));
  platform.all("/config", () => jsonFailure("ADMIN_METHOD_NOT_ALLOWED", {}, { allow: "GET, PUT" }));

  // The same without the document: what a client polls while a large push publishes.
  platform.get("/config/status", async () => {
    const status = (await stub().status()) as Omit<ConfigSnapshot, "document">;
    return jsonAnswer(200, { ok: true, ...status, edge: directory.state() });
  });
  platform.all("/config/status", () => jsonFailure("ADMIN_METHOD_NOT_ALLOWED", {}, { allow: "GET" }));

  platform.get("/config/versions", async () => jsonAnswer(200, { ok: true, versions: await stub().versions() }));
  platform.all("/config/versions", () => jsonFailure("ADMIN_METHOD_NOT_ALLOWED", {}, { allow: "GET" }));

  platform.post("/config/rollback", limit, async (c) => {
    const body = await c.req.json<unknown>().catch(() => null);
    const version = typeof body === "object" && body !== null ? (body as { version?: unknown }).version : undefined;
    if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) {
      return jsonFailure("CONFIG_INVALID", { problems: ['version: expected a version number, as in {"version": 3}'] });
    }
    return answer(await stub().rollback(version, now()), `rollback to ${version}`);
  });
  platform.all("/config/rollback", () => jsonFailure("ADMIN_METHOD_NOT_ALLOWED", {}, { allow: "POST" }));

  platform.put("/tenants/:id", limit, async (c) => answer(await stub().putTenant(c.req.param("id"), await c.req.text(), now()), "put"));
  platform.delete("/tenants/:id", async (c) => answer(await stub().deleteTenant(c.req.param("id"), now()), "delete"));
  platform.all("/tenants/:id", () => jsonFailure("ADMIN_METHOD_NOT_ALLOWED", {}, { allow: "PUT, DELETE" }));

  platform.all("*", () => jsonFailure("PLATFORM_NOT_FOUND"));
  return platform;
}

/** The platform token from the Worker secret (undefined when unset). */
function tokenOf(c: Context<PlatformEnv>): unknown {
  return platformToken(c.env);
}

/** The Worker secret BRIM_PLATFORM_TOKEN (undefined when unset); compare with `adminTokenMatches` (./token.ts). */
export function platformToken(env: unknown): unknown {
  return (env as Record<string, unknown> | undefined)?.BRIM_PLATFORM_TOKEN;
}
