import { DurableObject } from "cloudflare:workers";
import {
  COALESCE_HIT_FOR_MISS_MS,
  COALESCE_MAX_READER_LAG_BYTES,
  COALESCE_RECENT_MAX_BYTES,
  COALESCE_RECENT_MS,
  COALESCE_SHARED_BODY_MAX_BYTES,
  COALESCE_WAIT_SLACK_MS,
} from "../constants";
import type { BrimErrorCode } from "../errors";
import { remainingFreshness } from "../http/entry";
import { analyzeResponse } from "../http/storability";
import { roleHeaders, takeControl, type CoalesceRole, type ControlFields } from "./protocol";
import { answersWaiter, shareability, type Shareability } from "./share";
import { SharedBody } from "./shared-body";
import { askGlobal, fetchFromOrigin, type Signal } from "./upstream";

type Shared = Extract<Shareability, { shareable: true }>;

/** What a flight's waiters learn once the origin's response headers are in. */
type Head =
  | {
      readonly kind: "shared";
      readonly status: number;
      readonly statusText: string;
      readonly headers: Headers;
      readonly share: Shared;
      readonly body: SharedBody | null;
    }
  | { readonly kind: "private" }
  | { readonly kind: "failed"; readonly code: BrimErrorCode }
  | Signal;

interface Flight {
  /** No one joins after this: a stuck fetch cannot keep a key "updating" forever. */
  readonly joinUntil: number;
  readonly leaderHeaders: Headers;
  readonly head: Promise<Head>;
  /** Data centers that already have a caller writing the response to their cache. */
  readonly writers: Set<string>;
  readonly epoch: number;
}

interface Recent {
  readonly until: number;
  readonly head: Extract<Head, { kind: "shared" }>;
  readonly leaderHeaders: Headers;
  readonly bytes: Uint8Array;
  readonly writers: Set<string>;
}

/**
 * Two tiers, one class (docs/coalescing.md). The global object, one per cache key (tenant + key
 * hash; never a token), makes the one origin fetch for the deployment. A data center object,
 * one per data center and key, is what Workers call: it collapses the data center's concurrent
 * misses and sends one request on to the global object. Both share a body with every waiter as
 * it streams (SharedBody) and keep a small fresh response briefly for late arrivals. State is
 * in memory only: losing it (eviction, restart) costs at most one extra fetch upstream.
 */
export class Coalescer extends DurableObject<Env> {
  #flight: Flight | null = null;
  #recent: Recent | null = null;
  #bypassUntil = 0;
  /** Bumped by every invalidation; a flight from an older epoch keeps nothing. */
  #epoch = 0;
  /** Calls received (not invalidations), for tests that count calls per tier. */
  received = 0;

  override async fetch(request: Request): Promise<Response> {
    const headers = new Headers(request.headers);
    const control = takeControl(headers);
    const originRequest = new Request(request.url, { method: "GET", headers, redirect: "manual" });
    // What selects a response for this caller (RFC 9111 §4.1): the fields the origin saw, plus
    // the client's fields Brim did not forward (a Vary may name them).
    const selecting = new Headers(headers);
    for (const [name, value] of control.unforwarded) if (!selecting.has(name)) selecting.append(name, value);
    const now = control.now;

    if (control.mode === "invalidate") {
      // RFC 9111 §4.4: after an unsafe request, nothing kept from before may answer again.
      this.#epoch += 1;
      this.#recent = null;
      this.#flight = null;
      return signal("skipped", { reason: "invalidated" });
    }
    this.received += 1;
    if (now < this.#bypassUntil) return signal("direct", { reason: "hit-for-miss" });
    const recent = this.#recent;
    if (recent && !control.mustValidate && now < recent.until && answersWaiter(recent.head.share, recent.leaderHeaders, selecting)) {
      return respond(recent.head, recent.bytes, "late", claim(recent.writers, control.colo));
    }
    const flight = this.#flight;
    if (flight && now < flight.joinUntil) {
      if (control.mode === "background") return signal("skipped", { reason: "in-flight" });
      const joined = await this.#join(flight, selecting, control);
      // A data center flight led by a background refresh the global object skipped: lead anew.
      if (joined !== "lead") return joined;
    }
    return this.#lead(originRequest, selecting, control, now);
  }

  async #join(flight: Flight, waiter: Headers, control: ControlFields): Promise<Response | "lead"> {
    const head = await flight.head;
    if (head.kind === "failed") return signal("joined", { error: head.code });
    if (head.kind === "signal") return head.role === "skipped" ? "lead" : signal(head.role, { reason: head.reason });
    if (head.kind === "private") return signal("direct", { reason: "not-shareable" });
    if (!answersWaiter(head.share, flight.leaderHeaders, waiter)) return signal("direct", { reason: "vary" });
    if (head.body && !head.body.joinable) return signal("direct", { reason: "too-large" });
    return respond(head, head.body?.reader() ?? null, "joined", claim(flight.writers, control.colo));
  }

  async #lead(originRequest: Request, selecting: Headers, control: ControlFields, now: number): Promise<Response> {
    let resolveHead!: (head: Head) => void;
    const flight: Flight = {
      joinUntil: now + control.timeoutMs + COALESCE_WAIT_SLACK_MS,
      leaderHeaders: selecting,
      head: new Promise<Head>((resolve) => (resolveHead = resolve)),
      writers: new Set([control.colo]),
      epoch: this.#epoch,
    };
    this.#flight = flight;
    const end = () => {
      if (this.#flight === flight) this.#flight = null;
    };

    // Times on the leader's clock (see ControlFields.now), advanced by real elapsed time.
    const started = Date.now();
    const clock = () => now + (Date.now() - started);
    const requestTime = now;
    const { upstream: fetched, globalCalls } =
      control.tier === "colo"
        ? await askGlobal(this.env.COALESCER, originRequest, control)
        : { upstream: await fetchFromOrigin(originRequest, control), globalCalls: 0 };
    if (fetched.kind === "failed") {
      end();
      resolveHead({ kind: "failed", code: fetched.code });
      return signal("leader", { error: fetched.code, globalCalls });
    }
    if (fetched.kind === "signal") {
      end();
      resolveHead(fetched);
      return signal(fetched.role, { reason: fetched.reason, globalCalls });
    }
    // The leader's role: `joined` when the global object collapsed it into another data center's fetch.
    const role: CoalesceRole = fetched.collapsed ? "joined" : "leader";
    const response = fetched.response;
    const responseTime = clock();
    const share = shareability(response.headers, originRequest.headers.has("authorization"));
    if (!share.shareable) {
      // Hit-for-miss: later requests skip the queue instead of serializing behind each other.
      this.#bypassUntil = responseTime + COALESCE_HIT_FOR_MISS_MS;
      resolveHead({ kind: "private" });
      end();
      return respond(
        { status: response.status, statusText: response.statusText, headers: response.headers },
        response.body,
        role,
        fetched.store,
        globalCalls,
      );
    }
    const body = response.body
      ? new SharedBody(response.body, { sharedMaxBytes: COALESCE_SHARED_BODY_MAX_BYTES, maxLagBytes: COALESCE_MAX_READER_LAG_BYTES })
      : null;
    const head: Extract<Head, { kind: "shared" }> = {
      kind: "shared",
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
      share,
      body,
    };
    resolveHead(head);
    this.ctx.waitUntil(this.#settle(flight, head, control, requestTime, responseTime, clock).finally(end));
    return respond(head, body?.reader() ?? null, role, fetched.store, globalCalls);
  }

  /** When the body is complete: keep a small, fresh response briefly for late arrivals. */
  async #settle(
    flight: Flight,
    head: Extract<Head, { kind: "shared" }>,
    control: ControlFields,
    requestTime: number,
    responseTime: number,
    clock: () => number,
  ): Promise<void> {
    await head.body?.settled;
    if (flight.epoch !== this.#epoch) return;
    const bytes = head.body ? head.body.bytes() : new Uint8Array(0);
    // Too large to keep here, or for the route to store at all: later requests fetch again.
    if (!bytes || bytes.byteLength > Math.min(COALESCE_RECENT_MAX_BYTES, control.policy.maxObjectBytes)) return;
    const analysis = analyzeResponse({
      method: "GET",
      status: head.status,
      headers: head.headers,
      requestTime,
      responseTime,
      policy: control.policy,
      requestHasAuthorization: flight.leaderHeaders.has("authorization"),
      requestNoStore: false,
      random: 0,
    });
    // no-cache: every reuse needs validation (RFC 9111 §5.2.2.4), so nothing is kept.
    if (!analysis.storable || analysis.meta.noCache) return;
    const now = clock();
    const freshMs = remainingFreshness(analysis.meta, now) * 1000;
    if (freshMs <= 0) return;
    this.#recent = {
      until: now + Math.min(COALESCE_RECENT_MS, freshMs),
      head,
      leaderHeaders: flight.leaderHeaders,
      bytes,
      writers: new Set(flight.writers),
    };
  }
}

/** True for the first caller from `colo`: that one writes its data center's cache. */
function claim(writers: Set<string>, colo: string): boolean {
  if (writers.has(colo)) return false;
  writers.add(colo);
  return true;
}

function respond(
  head: { status: number; statusText: string; headers: Headers },
  body: BodyInit | null,
  role: CoalesceRole,
  store: boolean,
  globalCalls = 0,
): Response {
  const headers = new Headers(head.headers);
  roleHeaders(role, { store, globalCalls }).forEach((value, name) => headers.set(name, value));
  // "manual": the origin's exact (possibly encoded) bytes go to the caller as they are.
  return new Response(body instanceof ReadableStream ? body.pipeThrough(new IdentityTransformStream()) : body, {
    status: head.status,
    statusText: head.statusText,
    headers,
    encodeBody: "manual",
  });
}

/** A reply that carries no origin response, only what the caller should do. */
function signal(role: CoalesceRole, extra: { error?: BrimErrorCode; reason?: string; globalCalls?: number }): Response {
  return new Response(null, { status: 204, headers: roleHeaders(role, extra) });
}
