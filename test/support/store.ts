/**
 * Brim with its tenants in the real config store: the real `ConfigStore` object and the real
 * `CONFIG_KV` namespace, reached through the platform API as an operator would. Several
 * `storeBrim`s stand for several isolates: they share the store and KV, each has its own
 * directory (memory). Tenants are `<id>.test` on the test origin, as in `testBrim`.
 */
import { env } from "cloudflare:workers";
import { KvDirectory } from "../../src/control/directory";
import { TestClock, testBrim, type TestBrim, type TestBrimOptions, type TenantSpec } from "./brim";
import { originUrl } from "./origin";

/** The token vitest.config.ts binds as the Worker secret BRIM_PLATFORM_TOKEN. */
export const PLATFORM_TOKEN = "test-platform-token";

export interface StoreBrim extends TestBrim {
  readonly directory: KvDirectory;
  /** A platform API call (`/__brim/platform` + `path`) with the platform token unless `token` says otherwise. */
  platform(method: string, path: string, body?: unknown, token?: string | null): Promise<Response>;
}

/** A tenant object as an operator writes it: hosts `<id>.test`, the test origin. */
export function tenantDoc(spec: TenantSpec & { readonly hosts?: readonly string[] }): Record<string, unknown> {
  const { id, hosts = [`${id}.test`], ...rest } = spec;
  return { id, hosts, origin: originUrl(), ...rest };
}

/** A config space of its own (ConfigStore object name and KV prefix), so tests never see each other's configs. */
export function newSpace(): string {
  return `space-${crypto.randomUUID()}`;
}

export interface StoreBrimOptions extends TestBrimOptions {
  /** Brims standing for isolates of one deployment share a space. Default: a new one. */
  readonly space?: string;
  /** The KV binding the directory reads through. Default: the real `CONFIG_KV`. */
  readonly kv?: KVNamespace;
  /** Directory bounds (default: the production ones). */
  readonly maxHosts?: number;
  readonly maxUnknownHosts?: number;
}

export function storeBrim({
  space = newSpace(),
  kv = env.CONFIG_KV,
  maxHosts,
  maxUnknownHosts,
  ...options
}: StoreBrimOptions = {}): StoreBrim & {
  readonly space: string;
} {
  const logs: Record<string, unknown>[] = [];
  const clock = options.clock ?? new TestClock();
  const directory = new KvDirectory({
    kv,
    space,
    now: clock.now,
    log: (e) => logs.push(e),
    ...(maxHosts === undefined ? {} : { maxHosts }),
    ...(maxUnknownHosts === undefined ? {} : { maxUnknownHosts }),
  });
  const brim = testBrim([], { ...options, clock, directory, configStore: env.CONFIG_STORE, configSpace: space, log: (e) => logs.push(e) });
  return Object.assign(brim, {
    space,
    logs,
    directory,
    async platform(method: string, path: string, body?: unknown, token: string | null = PLATFORM_TOKEN) {
      return brim.fetch(`/__brim/platform${path}`, {
        method,
        host: "any.host.test",
        ...(token === null ? {} : { token }),
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      });
    },
  });
}
