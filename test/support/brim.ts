/**
 * The one test harness: Brim around tenants whose origin is the scriptable test origin (hosts
 * `<id>.test`), with the real Cache API and the real Durable Object namespaces. Options add what
 * a feature needs (`purge`, `stats`, admin tokens); tenants given as a list may carry `auth`,
 * `admin` or `observability` blocks. Several `testBrim`s stand for several isolates: they share
 * the Durable Objects and the Cache API, not their in-memory state.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createBrim, type BrimOptions } from "../../src/app";
import { coalescerName } from "../../src/coalesce/client";
import type { Coalescer } from "../../src/coalesce/object";
import { loadConfig } from "../../src/tenant/load";
import { originUrl } from "./origin";

/** The admin token secret vitest.config.ts binds (`TEST_ADMIN_TOKEN`). */
export const ADMIN_TOKEN_ENV = "TEST_ADMIN_TOKEN";

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** A controllable clock: starts at the real time (origin Date headers are real) and only moves when told. */
export class TestClock {
  #now = Date.now();
  readonly now = (): number => this.#now;
  advance(seconds: number): void {
    this.#now += seconds * 1000;
  }
}

/** Route list as in a tenants file; the tenant's origin is the test origin. */
export type RawRoute = Record<string, unknown>;

/** A tenant as in a tenants file, without `hosts` and `origin` (`<id>.test`, the test origin). */
export interface TenantSpec {
  readonly id: string;
  readonly routes: readonly RawRoute[];
  readonly auth?: Record<string, unknown>;
  readonly admin?: Record<string, unknown>;
  readonly observability?: Record<string, unknown>;
}

export interface TestBrimOptions extends Partial<BrimOptions> {
  /** Shared by several brims that stand for isolates of one deployment. Default: a new clock. */
  readonly clock?: TestClock;
  /**
   * The real `PurgeLog` namespace (`POST /__brim/purge`, purge checks on hits), and an `admin`
   * block on every tenant that has none (token env `TEST_ADMIN_TOKEN`, or `adminTokenEnvs[id]`).
   */
  readonly purge?: boolean;
  readonly adminTokenEnvs?: Readonly<Record<string, string>>;
  /** The real `StatsLog` namespace (counting, `GET /__brim/stats`). */
  readonly stats?: boolean;
}

export interface FetchInit extends RequestInit {
  /** Default: the first tenant's host. */
  host?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /**
   * Default true: the body is read and the request's `waitUntil` work (cache writes, background
   * revalidation, flushes) awaited before the response is returned. With false the response is
   * returned as Brim gave it, unread; `settled()` (or the end of the test) awaits its work.
   */
  background?: boolean;
}

export interface TestBrim {
  /** The Hono app itself, for requests the `fetch` helper cannot build. */
  readonly app: ReturnType<typeof createBrim>;
  readonly clock: TestClock;
  readonly logs: Record<string, unknown>[];
  /** Sends a request through Brim (real Cache API, real fetch to the test origin). */
  fetch(path: string, init?: FetchInit): Promise<Response>;
  /**
   * Waits for the `waitUntil` work of every request this brim sent so far (rejecting if any of
   * it failed). Read `background: false` bodies first: a cache write fed by a tee finishes only
   * once the client side is read.
   */
  settled(): Promise<void>;
}

/** Every brim with `waitUntil` work not yet awaited; `settleAll` drains them after each test. */
const unsettledBrims = new Set<TestBrim>();

/** Builds Brim around `tenants` (id → routes, or full tenant specs); hosts `<id>.test`. */
export function testBrim(tenants: Record<string, RawRoute[]> | readonly TenantSpec[], options: TestBrimOptions = {}): TestBrim {
  const { clock = new TestClock(), purge = false, adminTokenEnvs = {}, stats = false, ...overrides } = options;
  const specs: readonly TenantSpec[] = Array.isArray(tenants) ? tenants : Object.entries(tenants).map(([id, routes]) => ({ id, routes }));
  const config = overrides.directory
    ? null
    : loadConfig({
        tenants: specs.map(({ id, ...rest }) => ({
          id,
          hosts: [`${id}.test`],
          origin: originUrl(),
          ...(purge ? { admin: { tokenEnv: adminTokenEnvs[id] ?? ADMIN_TOKEN_ENV } } : {}),
          ...rest,
        })),
      });
  const logs: Record<string, unknown>[] = [];
  const app = createBrim({
    // A directory given (the config store's, test/support/store.ts) replaces the in-memory config.
    ...(config ? { config } : {}),
    now: clock.now,
    log: (e) => logs.push(e),
    coalescer: env.COALESCER,
    revocations: env.REVOCATIONS,
    ...(purge ? { purgeLog: env.PURGE_LOG } : {}),
    ...(stats ? { statsLog: env.STATS_LOG } : {}),
    ...overrides,
  });
  const defaultHost = `${specs[0]?.id}.test`;
  const unsettled: ExecutionContext[] = [];
  const brim: TestBrim = {
    app,
    clock,
    logs,
    async fetch(path, init = {}) {
      const { host = defaultHost, token, background = true, ...rest } = init;
      const headers = new Headers(rest.headers);
      headers.set("host", host);
      if (token !== undefined) headers.set("authorization", `Bearer ${token}`);
      const ctx = createExecutionContext();
      unsettled.push(ctx);
      unsettledBrims.add(brim);
      const response = await app.fetch(new Request(`http://${host}${path}`, { ...rest, headers }), env, ctx);
      if (!background) return response;
      // Read the body first so tee'd cache writes can finish, then wait for waitUntil work.
      const body = await response.arrayBuffer();
      unsettled.splice(unsettled.indexOf(ctx), 1);
      await waitOnExecutionContext(ctx);
      return new Response(NULL_BODY_STATUSES.has(response.status) || init.method === "HEAD" ? null : body, response);
    },
    async settled() {
      unsettledBrims.delete(brim);
      while (unsettled.length > 0) await waitOnExecutionContext(unsettled.shift() as ExecutionContext);
    },
  };
  return brim;
}

/**
 * Awaits the `waitUntil` work of every brim's requests (test/support/setup.ts runs it after each
 * test), so no cache write, refresh or flush started by one test runs into the next.
 */
export async function settleAll(): Promise<void> {
  const errors: unknown[] = [];
  for (const brim of [...unsettledBrims]) await brim.settled().catch((error: unknown) => errors.push(error));
  if (errors.length > 0) throw errors.length === 1 ? errors[0] : new AggregateError(errors, "waitUntil work failed after the test");
}

/**
 * One edge of a local "two data centers" setup: a Brim with its own Cache API cache
 * (`edge-<name>`) and its own data center name (`colo`), sharing the Durable Objects with every
 * other edge, as two Cloudflare locations share them. Several brims with one name stand for
 * several isolates of one data center.
 */
export function testEdge(
  name: string,
  tenants: Record<string, RawRoute[]> | readonly TenantSpec[],
  options: TestBrimOptions = {},
): TestBrim {
  return testBrim(tenants, { cache: () => caches.open(`edge-${name}`), colo: name, ...options });
}

/** A key's Coalescer shard in one tier, and the key (a shard holds many keys). */
export interface KeyedStub {
  readonly stub: DurableObjectStub<Coalescer>;
  readonly key: string;
}

/** The key's Coalescer shards: the global one (no location hint), and the one for data center `colo`. */
export function coalescerStubs(keyUrl: string, colo: string): { global: KeyedStub; colo: KeyedStub } {
  const stub = (tier: "global" | "colo") => env.COALESCER.get(env.COALESCER.idFromName(coalescerName(tier, keyUrl, colo, null)));
  return { global: { stub: stub("global"), key: keyUrl }, colo: { stub: stub("colo"), key: keyUrl } };
}
