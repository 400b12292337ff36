import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createBrim, type BrimOptions } from "../../src/app";
import { loadConfig } from "../../src/tenant/load";
import { originUrl } from "./origin";

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** A controllable clock: starts at the real time (origin Date headers are real) and only moves when told. */
export class TestClock {
  #now = Date.now();
  readonly now = (): number => this.#now;
  advance(seconds: number): void {
    this.#now += seconds * 1000;
  }
}

export interface TestBrim {
  /** The Hono app itself, for requests the `fetch` helper cannot build. */
  readonly app: ReturnType<typeof createBrim>;
  readonly clock: TestClock;
  readonly logs: Record<string, unknown>[];
  /**
   * Sends a request through Brim (real Cache API, real fetch to the test origin) and waits for
   * its `waitUntil` work (cache writes, background revalidation) unless `background: false`.
   */
  fetch(path: string, init?: RequestInit & { host?: string; background?: boolean }): Promise<Response>;
  /**
   * Waits for the `waitUntil` work of every `background: false` request sent so far. Read
   * their bodies first: a cache write fed by a tee finishes only once the client side is read.
   */
  settled(): Promise<void>;
}

/** Route list as in a tenants file; the tenant's origin is the test origin. */
export type RawRoute = Record<string, unknown>;

/** Builds Brim around tenants whose origin is the test origin. Hosts: `<id>.test`. */
export function testBrim(tenants: Record<string, RawRoute[]>, options: Partial<BrimOptions> = {}): TestBrim {
  const config = loadConfig({
    tenants: Object.entries(tenants).map(([id, routes]) => ({ id, hosts: [`${id}.test`], origin: originUrl(), routes })),
  });
  const clock = new TestClock();
  const logs: Record<string, unknown>[] = [];
  const app = createBrim({ config, now: clock.now, log: (e) => logs.push(e), coalescer: env.COALESCER, ...options });
  const defaultHost = `${Object.keys(tenants)[0]}.test`;
  const unsettled: ExecutionContext[] = [];
  return {
    app,
    clock,
    logs,
    async fetch(path, init = {}) {
      const { host = defaultHost, background = true, ...rest } = init;
      const headers = new Headers(rest.headers);
      headers.set("host", host);
      const ctx = createExecutionContext();
      const response = await app.fetch(new Request(`http://${host}${path}`, { ...rest, headers }), env, ctx);
      if (background) {
        // Read the body first so tee'd cache writes can finish, then wait for waitUntil work.
        const body = await response.arrayBuffer();
        await waitOnExecutionContext(ctx);
        return new Response(NULL_BODY_STATUSES.has(response.status) || init.method === "HEAD" ? null : body, response);
      }
      unsettled.push(ctx);
      return response;
    },
    async settled() {
      while (unsettled.length > 0) await waitOnExecutionContext(unsettled.shift() as ExecutionContext);
    },
  };
}
