/**
 * A typed client for Brim's platform API (`/__brim/platform/*`, docs/control-plane.md): the
 * versioned tenant config store. Used by `npm run config`, `npm start` (to seed the store),
 * `npm run deploy`, the bench and the tests; what they print about answers is in
 * scripts/lib/platform-report.ts.
 *
 * Every failure is a `PlatformError` with a stable `code`, so callers `switch` on it:
 * the Worker's own codes (`PLATFORM_UNAUTHORIZED`, `PLATFORM_NOT_CONFIGURED`,
 * `PLATFORM_NOT_FOUND`, `CONFIG_INVALID` with its `problems`) plus `REFUSED` (another error
 * the API answered, e.g. `413` for a body over its limit), `UNREACHABLE` (no HTTP answer) and
 * `BAD_RESPONSE` (an answer that is not the API's JSON, e.g. another server on the port, or a
 * Worker without the platform API).
 */

import type { ConfigSnapshot, ConfigWrite, VersionInfo } from "../../src/control/object";

/** Where `npm run config` looks when `--url` is not given: `npm start`'s default. */
export const DEFAULT_PLATFORM_URL = "http://127.0.0.1:8787";
/** The environment variable holding the bearer token, as the Worker's secret is named. */
export const PLATFORM_TOKEN_ENV = "BRIM_PLATFORM_TOKEN";
const PLATFORM_PATH = "/__brim/platform";
/** One request; a push at the platform body cap (PLATFORM_MAX_BODY_BYTES, 16 MiB) to a remote Worker can take a while. */
const REQUEST_TIMEOUT_MS = 120_000;
/** How often `waitForPublished` re-reads the config. */
const PUBLISH_POLL_INTERVAL_MS = 500;

/**
 * The answers' shapes are the Worker's own (src/control/object.ts), imported as types only: the
 * class behind them (a Durable Object, `cloudflare:workers`) never loads in Node.
 */
export type { MissingSecret } from "../../src/control/object";
/** `GET /__brim/platform/config` (and `/config/status`, without `document`). */
export type ConfigState = ConfigSnapshot;
/** What every write (push, push-tenant, delete, rollback) answers; `published` is false while a big push is still being written to the edge (see `waitForPublished`). */
export type WriteResult = Extract<ConfigWrite, { ok: true }>;
export type VersionEntry = VersionInfo;

export type PlatformErrorCode =
  | "PLATFORM_UNAUTHORIZED"
  | "PLATFORM_NOT_CONFIGURED"
  | "PLATFORM_NOT_FOUND"
  | "CONFIG_INVALID"
  | "REFUSED"
  | "UNREACHABLE"
  | "BAD_RESPONSE";

export class PlatformError extends Error {
  constructor(
    readonly code: PlatformErrorCode,
    message: string,
    /** `CONFIG_INVALID`: one `path: reason` line per problem. */
    readonly problems: readonly string[] = [],
    /** The HTTP status, when there was an answer. */
    readonly status?: number,
  ) {
    super(message);
    this.name = "PlatformError";
  }
}

export interface PlatformClientOptions {
  /** The Worker's base URL, e.g. `http://127.0.0.1:8787` or `https://brim.example.com`. */
  readonly url: string;
  readonly token: string;
  /** Default: the global `fetch` (tests may count or fail requests). */
  readonly fetch?: typeof fetch;
}

/**
 * The base URL of a Worker's platform API, or why it is not one. The token goes to exactly
 * `<origin>/__brim/platform/...`: a path, query, fragment or credentials in the URL would send
 * it somewhere else (a tenant route, proxied to an origin with the Authorization header), so
 * they are refused; plain http only to this machine (the token would cross the network in clear).
 */
export function platformBaseUrl(text: string): string | { readonly problem: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `--url: expected https://HOST[:PORT] (or http:// to this machine), got "${text}"` };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { problem: `--url: expected an http(s) URL, got "${text}"` };
  if (url.username || url.password) return { problem: `--url: no credentials in the URL (the token comes from ${PLATFORM_TOKEN_ENV})` };
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || text.includes("?") || text.includes("#")) {
    return { problem: `--url: expected only scheme, host and port (no path, query or fragment), got "${text}"` };
  }
  if (url.protocol === "http:" && !LOOPBACK.test(url.hostname)) {
    return { problem: `--url: plain http only to this machine (127.0.0.1, localhost); use https://${url.host}` };
  }
  return url.origin;
}

/** Hosts plain http may reach: this machine only. */
const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|localhost|(?:[a-z0-9-]+\.)*localhost|\[::1\])$/i;

/** The platform API of one Worker. */
export class PlatformClient {
  readonly #base: string;
  readonly #token: string;
  readonly #fetch: typeof fetch;

  /** @throws Error when `options.url` is not a safe base URL (`platformBaseUrl`). */
  constructor(options: PlatformClientOptions) {
    const base = platformBaseUrl(options.url);
    if (typeof base !== "string") throw new Error(base.problem);
    this.#base = base;
    this.#token = options.token;
    this.#fetch = options.fetch ?? fetch;
  }

  /** The active config, its version and what the edge has. */
  getConfig(): Promise<ConfigState> {
    return this.#call<ConfigState>("GET", "/config");
  }

  /** Replaces the whole tenants document. `document` is JSON text or a value to serialize. */
  putConfig(document: string | object): Promise<WriteResult> {
    return this.#call<WriteResult>("PUT", "/config", document);
  }

  /** Adds or replaces one tenant (`tenant.id` must equal `id`). */
  putTenant(id: string, tenant: string | object): Promise<WriteResult> {
    return this.#call<WriteResult>("PUT", `/tenants/${encodeURIComponent(id)}`, tenant);
  }

  /** Removes one tenant; `PLATFORM_NOT_FOUND` when there is none with this id. */
  deleteTenant(id: string): Promise<WriteResult> {
    return this.#call<WriteResult>("DELETE", `/tenants/${encodeURIComponent(id)}`);
  }

  /** Makes version `version`'s document active again (as a new version). */
  rollback(version: number): Promise<WriteResult> {
    return this.#call<WriteResult>("POST", "/config/rollback", { version });
  }

  /** The stored versions, newest first. */
  async versions(): Promise<readonly VersionEntry[]> {
    return (await this.#call<{ versions: VersionEntry[] }>("GET", "/config/versions")).versions;
  }

  /**
   * Resolves once the edge copy holds `version` (true), or false after `timeoutMs`. A write
   * answers `published: false` while a big document is still being written to Workers KV.
   */
  async waitForPublished(version: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // The status answer, without the document: a 10,000-tenant document is megabytes, and the
      // object that serves it is the one publishing.
      if ((await this.#call<ConfigState>("GET", "/config/status")).publishedVersion >= version) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, PUBLISH_POLL_INTERVAL_MS));
    }
  }

  async #call<T>(method: string, path: string, body?: string | object): Promise<T> {
    const url = `${this.#base}${PLATFORM_PATH}${path}`;
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        // A redirect would carry the token elsewhere (or drop it, and blame the token).
        redirect: "error",
      });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      throw new PlatformError("UNREACHABLE", `${method} ${url}: no answer (${cause instanceof Error ? cause.message : String(cause)})`);
    }
    const text = await response.text();
    const json = parseObject(text);
    if (json === null) {
      throw new PlatformError(
        "BAD_RESPONSE",
        `${method} ${url}: ${response.status}, not a platform API answer: ${JSON.stringify(text.slice(0, 200))}`,
        [],
        response.status,
      );
    }
    if (response.ok && json.ok === true) return json as T;
    throw errorFrom(method, url, response.status, json);
  }
}

/** The fields of an answer this client reads before trusting its shape. */
interface Answer {
  ok?: unknown;
  error?: unknown;
  problems?: unknown;
  problem?: unknown;
}

/** `text` as a JSON object, or null when it is not one. */
function parseObject(text: string): Answer | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/** The `PlatformError` for a JSON answer that is not `ok`. */
function errorFrom(method: string, url: string, status: number, json: Answer): PlatformError {
  const where = `${method} ${url}`;
  switch (json.error) {
    case "PLATFORM_UNAUTHORIZED":
      return new PlatformError(json.error, `${where}: 401, the platform token was refused`, [], status);
    case "PLATFORM_NOT_CONFIGURED":
      return new PlatformError(json.error, `${where}: 503, the Worker has no ${PLATFORM_TOKEN_ENV} secret`, [], status);
    case "PLATFORM_NOT_FOUND":
      return new PlatformError(json.error, `${where}: 404, ${typeof json.problem === "string" ? json.problem : "not found"}`, [], status);
    case "CONFIG_INVALID": {
      const problems = Array.isArray(json.problems) ? json.problems.map(String) : [];
      return new PlatformError(json.error, `${where}: 400, invalid config`, problems, status);
    }
    default:
      if (json.ok === false && typeof json.error === "string") {
        const detail = typeof json.problem === "string" ? `: ${json.problem}` : "";
        return new PlatformError("REFUSED", `${where}: ${status} ${json.error}${detail}`, [], status);
      }
      return new PlatformError(
        "BAD_RESPONSE",
        `${where}: ${status}, not a platform API answer: ${JSON.stringify(json).slice(0, 200)}`,
        [],
        status,
      );
  }
}
