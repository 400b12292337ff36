import { DurableObject } from "cloudflare:workers";
import {
  COALESCE_HIT_FOR_MISS_MS,
  COALESCE_MAX_READER_LAG_BYTES,
  COALESCE_RECENT_MAX_BYTES,
  COALESCE_RECENT_MS,
  COALESCE_SHARD_RECENT_MAX_BYTES,
  COALESCE_SHARED_BODY_MAX_BYTES,
  COALESCE_WAIT_SLACK_MS,
  COALESCE_WHOLE_BODY_MAX_BYTES,
} from "../constants";
import type { BrimErrorCode } from "../errors";
import { declaredLength } from "../http/body";
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

/** One key's coalescing state inside a shard. */
interface KeyState {
  flight: Flight | null;
  recent: Recent | null;
  bypassUntil: number;
  /** Bumped by every invalidation; a flight from an older epoch keeps nothing. */
  epoch: number;
  /**
   * The object's own time (Date.now()) after which the kept response and hit-for-miss window are
   * over on any caller's clock that moves with real time; with no flight, the state may go then.
   */
  idleAfter: number;
}

/** Keys whose call counts a shard remembers (tests count calls per tier and key). */
const RECEIVED_MAX_KEYS = 1_024;

/**
 * Two tiers, one class (docs/coalescing.md). Each object is a shard (src/coalesce/client.ts
 * `coalescerName`) holding the state of every key hashed to it, each key on its own. A global
 * shard makes the one origin fetch per key for the deployment. A data center shard is what
 * Workers call: it collapses the data center's concurrent misses for a key and sends one request
 * on to the key's global shard. Both share a body with every waiter (SharedBody: streamed as it
 * arrives, or, when small, handed over whole) and keep a small fresh response briefly for late
 * arrivals. State is in memory only: losing it (eviction, restart) costs at most one extra
 * fetch upstream per key in flight.
 */
export class Coalescer extends DurableObject<Env> {
  readonly #keys = new Map<string, KeyState>();
  /** Bytes held by kept responses of all keys (bounded by COALESCE_SHARD_RECENT_MAX_BYTES). */
  #recentBytes = 0;
  #sweptAt = 0;
  readonly #received = new Map<string, number>();

  /** Calls received for `key` (not invalidations), for tests that count calls per tier. */
  receivedFor(key: string): number {
    return this.#received.get(key) ?? 0;
  }

  override async fetch(request: Request): Promise<Response> {
    const headers = new Headers(request.headers);
    const control = takeControl(headers);
    const now = control.now;
    this.#sweep();

    if (control.mode === "invalidate") {
      // RFC 9111 §4.4: after an unsafe request, nothing kept from before may answer again.
      const state = this.#keys.get(control.key);
      if (state) {
        state.epoch += 1;
        this.#forget(state);
        state.flight = null;
      }
      return signal("skipped", { reason: "invalidated" });
    }
    this.#count(control.key);
    const state = this.#state(control.key);
    if (now < state.bypassUntil) return signal("direct", { reason: "hit-for-miss" });
    // What selects a response for this caller (RFC 9111 §4.1): the fields the origin saw, plus
    // the client's fields Brim did not forward (a Vary may name them).
    const selecting = new Headers(headers);
    for (const [name, value] of control.unforwarded) if (!selecting.has(name)) selecting.append(name, value);
    const recent = state.recent;
    if (recent && !control.mustValidate && now < recent.until && answersWaiter(recent.head.share, recent.leaderHeaders, selecting)) {
      return respond(recent.head, recent.bytes, "late", claim(recent.writers, control.colo));
    }
    const flight = state.flight;
    if (flight && now < flight.joinUntil) {
      if (control.mode === "background") return signal("skipped", { reason: "in-flight" });
      const joined = await this.#join(flight, selecting, control);
      // A data center flight led by a background refresh the global object skipped: lead anew.
      if (joined !== "lead") return joined;
    }
    // Built only by the one caller that leads: joiners (a stampede's many) never need it.
    const originRequest = new Request(request.url, { method: "GET", headers, redirect: "manual" });
    return this.#lead(state, originRequest, selecting, control, now);
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (!state) {
      state = { flight: null, recent: null, bypassUntil: 0, epoch: 0, idleAfter: 0 };
      this.#keys.set(key, state);
    }
    return state;
  }

  #forget(state: KeyState): void {
    if (state.recent) this.#recentBytes -= state.recent.bytes.byteLength;
    state.recent = null;
  }

  /**
   * At most once a second, drops the state of keys with nothing in flight whose windows are over
   * (`idleAfter`, on the object's own time: callers' clocks may differ, and dropping a window
   * early costs one fetch, never a wrong answer). A shard's memory follows its keys in flight,
   * not every key it has seen.
   */
  #sweep(): void {
    const now = Date.now();
    if (now - this.#sweptAt < 1_000) return;
    this.#sweptAt = now;
    for (const [key, state] of this.#keys) {
      if (state.flight || now < state.idleAfter) continue;
      this.#forget(state);
      this.#keys.delete(key);
    }
  }

  #count(key: string): void {
    const seen = this.#received.get(key) ?? 0;
    this.#received.delete(key);
    this.#received.set(key, seen + 1);
    if (this.#received.size > RECEIVED_MAX_KEYS) this.#received.delete(this.#received.keys().next().value as string);
  }

  async #join(flight: Flight, waiter: Headers, control: ControlFields): Promise<Response | "lead"> {
    const head = await flight.head;
    if (head.kind === "failed") return signal("joined", { error: head.code });
    if (head.kind === "signal") return head.role === "skipped" ? "lead" : signal(head.role, { reason: head.reason });
    if (head.kind === "private") return signal("direct", { reason: "not-shareable" });
    if (!answersWaiter(head.share, flight.leaderHeaders, waiter)) return signal("direct", { reason: "vary" });
    if (head.body && !head.body.joinable) return signal("direct", { reason: "too-large" });
    return respond(head, await bodyFor(head), "joined", claim(flight.writers, control.colo));
  }

  async #lead(state: KeyState, originRequest: Request, selecting: Headers, control: ControlFields, now: number): Promise<Response> {
    let resolveHead!: (head: Head) => void;
    const flight: Flight = {
      joinUntil: now + control.timeoutMs + COALESCE_WAIT_SLACK_MS,
      leaderHeaders: selecting,
      head: new Promise<Head>((resolve) => (resolveHead = resolve)),
      writers: new Set([control.colo]),
      epoch: state.epoch,
    };
    state.flight = flight;
    const end = () => {
      if (state.flight === flight) state.flight = null;
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
      state.bypassUntil = responseTime + COALESCE_HIT_FOR_MISS_MS;
      state.idleAfter = Math.max(state.idleAfter, Date.now() + COALESCE_HIT_FOR_MISS_MS);
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
    this.ctx.waitUntil(this.#settle(state, flight, head, control, requestTime, responseTime, clock).finally(end));
    // The leader streams at once, as the origin's bytes arrive (only joiners are handed small bodies whole).
    return respond(head, body?.reader() ?? null, role, fetched.store, globalCalls);
  }

  /** When the body is complete: keep a small, fresh response briefly for late arrivals. */
  async #settle(
    state: KeyState,
    flight: Flight,
    head: Extract<Head, { kind: "shared" }>,
    control: ControlFields,
    requestTime: number,
    responseTime: number,
    clock: () => number,
  ): Promise<void> {
    await head.body?.settled;
    // Invalidated meanwhile, or the key's state was dropped (a new one starts clean).
    if (flight.epoch !== state.epoch || this.#keys.get(control.key) !== state) return;
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
    // The shard's kept bytes are bounded for all its keys together: past that, later requests fetch again.
    const kept = state.recent?.bytes.byteLength ?? 0;
    if (this.#recentBytes - kept + bytes.byteLength > COALESCE_SHARD_RECENT_MAX_BYTES) return;
    this.#forget(state);
    this.#recentBytes += bytes.byteLength;
    state.idleAfter = Math.max(state.idleAfter, Date.now() + COALESCE_RECENT_MS);
    state.recent = {
      until: now + Math.min(COALESCE_RECENT_MS, freshMs),
      head,
      leaderHeaders: flight.leaderHeaders,
      bytes,
      writers: new Set(flight.writers),
    };
  }
}

/**
 * The body for one joined waiter. A small declared body (COALESCE_WHOLE_BODY_MAX_BYTES) that is complete
 * once its first chunk is in (the usual case: it arrives in one piece) is handed over whole: one
 * buffer crosses the object boundary instead of a stream per waiter, with the same bytes the
 * stream would carry. Otherwise (larger, undeclared, still arriving after its first chunk, or
 * failed) the waiter gets the stream, which replays from the first byte and fails as the origin
 * body did, so a waiter never waits for more than the first chunk before its headers go out.
 */
async function bodyFor(head: Extract<Head, { kind: "shared" }>): Promise<BodyInit | null> {
  const body = head.body;
  if (!body) return null;
  const declared = declaredLength(head.headers);
  if (declared !== null && declared <= COALESCE_WHOLE_BODY_MAX_BYTES) {
    await body.started;
    const bytes = body.bytes();
    if (bytes) return bytes;
  }
  return body.reader();
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
