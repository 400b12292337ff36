import { COALESCE_COLO_SHARDS, COALESCE_GLOBAL_SHARDS } from "../constants";
import { BrimError, originErrorCode, type OriginErrorCode } from "../errors";
import { meter } from "../meter";
import type { CachePolicy, LocationHint } from "../tenant/types";
import type { Coalescer } from "./object";
import { CONTROL, writeControl, type CoalesceMode, type CoalesceTier, type ControlFields } from "./protocol";

/** What the Worker does next after asking the key's Coalescer. */
export type CoalesceOutcome =
  /** The origin's response; `collapsed` when another request's fetch produced it. */
  | { readonly kind: "response"; readonly response: Response; readonly collapsed: boolean; readonly store: boolean }
  /** The shared fetch failed; `collapsed` as above. */
  | { readonly kind: "failed"; readonly error: BrimError<OriginErrorCode>; readonly collapsed: boolean }
  /** Fetch for yourself: the response could not be shared with this request. */
  | { readonly kind: "direct"; readonly reason: string }
  /** Background refresh not needed: another one is running or just finished. */
  | { readonly kind: "skipped" }
  /**
   * The data center's object answered, but the global one failed it (after the bounded retries),
   * or its wait on the global one ran out (`reason` `coalesce-timeout`).
   */
  | { readonly kind: "unavailable"; readonly reason: string }
  /** The object itself failed (`overloaded`: it said so) or the wait ran out. */
  | {
      readonly kind: "fallback";
      readonly reason: "coalesce-error" | "coalesce-timeout";
      readonly detail: string;
      readonly overloaded?: boolean;
    };

export interface CoalesceCall {
  readonly namespace: DurableObjectNamespace<Coalescer>;
  /** The cache key URL: tenant id + hash of the key material; never a token. */
  readonly key: string;
  /** The request as it would go to the origin. */
  readonly originRequest: Request;
  readonly mode: CoalesceMode;
  readonly timeoutMs: number;
  readonly bodyIdleTimeoutMs: number;
  readonly waitMs: number;
  readonly policy: CachePolicy;
  /** This request's data center (`request.cf.colo`, or BrimOptions.colo): names its tier-1 object. */
  readonly dataCenter: string;
  /** Writer identity: data center + coding variant (one cache writer each). */
  readonly colo: string;
  /** The caller's clock, epoch ms. */
  readonly now: number;
  /** The client's directives require validation with the origin. */
  readonly mustValidate: boolean;
  /** The client's own request fields (the ones not forwarded are sent for Vary matching). */
  readonly clientHeaders: Headers;
  readonly locationHint: LocationHint | null;
}

/** Never sent to the object for matching: credentials and cookies stay out of its memory. */
const NOT_MATCHED = new Set(["authorization", "cookie"]);

const CONTROL_NAMES = Object.values(CONTROL);

/**
 * The name of the object a tier uses for a key: one of a fixed set of shards, chosen by a hash
 * of the key only, so every caller anywhere maps a key to the same object per tier (the global
 * tier's "one origin fetch per key for the deployment" rests on this). `global`: one set for the
 * deployment per `locationHint` (the hint is in the name: a shard is placed only when first
 * created, so shards for different regions must differ). `colo`: one set per data center,
 * created where its first caller runs, so it is a nearby hop. Shards stay warm: a miss never
 * pays for creating an object (docs/coalescing.md "Shards").
 */
export function coalescerName(tier: CoalesceTier, key: string, dataCenter: string, locationHint: DurableObjectLocationHint | null): string {
  if (tier === "colo") return `colo:${dataCenter}|shard:${shardOf(key, COALESCE_COLO_SHARDS)}`;
  return `global:${locationHint ?? ""}|shard:${shardOf(key, COALESCE_GLOBAL_SHARDS)}`;
}

/** The object for `coalescerName(...)`; the global tier's is placed by `locationHint` when first created. */
export function coalescerStub(
  namespace: DurableObjectNamespace<Coalescer>,
  tier: CoalesceTier,
  key: string,
  dataCenter: string,
  locationHint: DurableObjectLocationHint | null,
): DurableObjectStub<Coalescer> {
  const id = namespace.idFromName(coalescerName(tier, key, dataCenter, locationHint));
  return tier === "global" && locationHint ? namespace.get(id, { locationHint }) : namespace.get(id);
}

/** FNV-1a (32-bit) of the key, modulo `shards`: cheap, stable across isolates and versions. */
function shardOf(key: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/**
 * Sends a miss or revalidation through one tier of the key's Coalescers (normally `colo`, which
 * goes on to the global one). Never throws: a failure of the object, or a wait longer than
 * `waitMs`, becomes a `fallback`, and the caller decides (src/pipeline/upstream.ts). Counts one
 * `coalescer` call, plus the calls the data center's object made to the global one for it.
 */
export async function throughCoalescer(call: CoalesceCall, tier: CoalesceTier): Promise<CoalesceOutcome> {
  const unforwarded: [string, string][] = [];
  call.clientHeaders.forEach((value, name) => {
    if (!call.originRequest.headers.has(name) && !NOT_MATCHED.has(name)) unforwarded.push([name, value]);
  });
  const control: ControlFields = {
    mode: call.mode,
    timeoutMs: call.timeoutMs,
    bodyIdleTimeoutMs: call.bodyIdleTimeoutMs,
    policy: call.policy,
    colo: call.colo,
    now: call.now,
    mustValidate: call.mustValidate,
    unforwarded,
    tier,
    key: call.key,
    waitMs: call.waitMs,
    locationHint: call.locationHint,
  };
  meter("coalescer");
  try {
    const stub = coalescerStub(call.namespace, tier, call.key, call.dataCenter, call.locationHint);
    const outcome = await askCoalescer(stub, call.originRequest, control);
    if (outcome.globalCalls > 0) meter("coalescer", outcome.globalCalls);
    return outcome.outcome;
  } catch (error) {
    return failure(error);
  }
}

/**
 * One call to one Coalescer (from a Worker, or from a data center's object to the global one):
 * the origin request plus control headers, raced against `control.waitMs`. Never throws.
 */
export async function askCoalescer(
  stub: DurableObjectStub<Coalescer>,
  originRequest: Request,
  control: ControlFields,
): Promise<{ outcome: CoalesceOutcome; globalCalls: number }> {
  const headers = new Headers(originRequest.headers);
  writeControl(headers, control);
  // "manual": a 3xx from the origin is the answer, for the object hop as for the origin hop.
  const request = new Request(originRequest.url, { method: "GET", headers, redirect: "manual" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), control.waitMs)));
  try {
    // "manual": the object sends the origin's exact bytes; nothing on this hop decodes them.
    const answer = await Promise.race([stub.fetch(request, { encodeResponseBody: "manual" }), deadline]);
    if (answer === "timeout")
      return { outcome: { kind: "fallback", reason: "coalesce-timeout", detail: `no answer within ${control.waitMs} ms` }, globalCalls: 0 };
    return { outcome: interpret(answer), globalCalls: Number(answer.headers.get(CONTROL.globalCalls)) || 0 };
  } catch (error) {
    return { outcome: failure(error), globalCalls: 0 };
  } finally {
    clearTimeout(timer);
  }
}

/** A thrown Durable Object error; `overloaded` is set by the platform when the object is (docs: "Error handling"). */
function failure(error: unknown): Extract<CoalesceOutcome, { kind: "fallback" }> {
  const overloaded = typeof error === "object" && error !== null && (error as { overloaded?: unknown }).overloaded === true;
  return { kind: "fallback", reason: "coalesce-error", detail: String(error), ...(overloaded ? { overloaded } : {}) };
}

function interpret(answer: Response): CoalesceOutcome {
  const role = answer.headers.get(CONTROL.role);
  const error = answer.headers.get(CONTROL.error);
  const collapsed = role === "joined" || role === "late";
  if (error) return { kind: "failed", error: new BrimError(originErrorCode(error), "shared origin fetch failed"), collapsed };
  if (role === "direct") return { kind: "direct", reason: answer.headers.get(CONTROL.reason) ?? "" };
  if (role === "skipped") return { kind: "skipped" };
  if (role === "unavailable") return { kind: "unavailable", reason: answer.headers.get(CONTROL.reason) ?? "" };
  if (role !== "leader" && role !== "joined" && role !== "late") {
    void answer.body?.cancel();
    return { kind: "fallback", reason: "coalesce-error", detail: `unexpected role ${String(role)}` };
  }
  const store = answer.headers.get(CONTROL.store) === "1";
  const headers = new Headers(answer.headers);
  for (const name of CONTROL_NAMES) headers.delete(name);
  return {
    kind: "response",
    response: new Response(answer.body, { status: answer.status, statusText: answer.statusText, headers, encodeBody: "manual" }),
    collapsed,
    store,
  };
}

/**
 * Tells the key's objects (this data center's, then the global one) to forget any response they
 * keep (best effort, never throws). Other data centers' objects keep theirs at most
 * COALESCE_RECENT_MS, as their caches keep their entries: an unsafe request invalidates locally.
 */
export async function invalidateCoalescer(
  namespace: DurableObjectNamespace<Coalescer>,
  key: string,
  now: number,
  dataCenter = "",
  locationHint: DurableObjectLocationHint | null = null,
): Promise<void> {
  const headers = new Headers();
  headers.set(CONTROL.mode, "invalidate");
  headers.set(CONTROL.now, String(now));
  // A shard holds many keys: the key says which one to forget.
  headers.set(CONTROL.key, key);
  for (const tier of ["colo", "global"] as const) {
    meter("coalescer");
    try {
      const answer = await coalescerStub(namespace, tier, key, dataCenter, locationHint).fetch("https://coalescer.invalid/", { headers });
      await answer.body?.cancel();
    } catch {
      // Without the object there is nothing kept to forget.
    }
  }
}
