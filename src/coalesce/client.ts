import { BrimError, originErrorCode, type OriginErrorCode } from "../errors";
import type { CachePolicy } from "../tenant/types";
import type { Coalescer } from "./object";
import { CONTROL, writeControl, type CoalesceMode } from "./protocol";

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
  /** The coalescing layer failed or the wait ran out; fetch for yourself and say so. */
  | { readonly kind: "fallback"; readonly reason: "coalesce-error" | "coalesce-timeout"; readonly detail: string };

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
  readonly colo: string;
  /** The caller's clock, epoch ms. */
  readonly now: number;
  /** The client's directives require validation with the origin. */
  readonly mustValidate: boolean;
  /** The client's own request fields (the ones not forwarded are sent for Vary matching). */
  readonly clientHeaders: Headers;
}

/** Never sent to the object for matching: credentials and cookies stay out of its memory. */
const NOT_MATCHED = new Set(["authorization", "cookie"]);

const CONTROL_NAMES = Object.values(CONTROL);

/**
 * Sends a miss or revalidation through the key's Durable Object. Never throws: any failure of
 * the object, or a wait longer than `waitMs`, becomes a `fallback` so the request can still be
 * answered by a direct fetch.
 */
export async function throughCoalescer(call: CoalesceCall): Promise<CoalesceOutcome> {
  const headers = new Headers(call.originRequest.headers);
  const unforwarded: [string, string][] = [];
  call.clientHeaders.forEach((value, name) => {
    if (!call.originRequest.headers.has(name) && !NOT_MATCHED.has(name)) unforwarded.push([name, value]);
  });
  writeControl(headers, {
    mode: call.mode,
    timeoutMs: call.timeoutMs,
    bodyIdleTimeoutMs: call.bodyIdleTimeoutMs,
    policy: call.policy,
    colo: call.colo,
    now: call.now,
    mustValidate: call.mustValidate,
    unforwarded,
  });
  // "manual": a 3xx from the origin is the answer, for the object hop as for the origin hop.
  const request = new Request(call.originRequest.url, { method: "GET", headers, redirect: "manual" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), call.waitMs)));
  try {
    const stub = call.namespace.get(call.namespace.idFromName(call.key));
    // "manual": the object sends the origin's exact bytes; nothing on this hop decodes them.
    const answer = await Promise.race([stub.fetch(request, { encodeResponseBody: "manual" }), deadline]);
    if (answer === "timeout") return { kind: "fallback", reason: "coalesce-timeout", detail: `no answer within ${call.waitMs} ms` };
    return interpret(answer);
  } catch (error) {
    return { kind: "fallback", reason: "coalesce-error", detail: String(error) };
  } finally {
    clearTimeout(timer);
  }
}

function interpret(answer: Response): CoalesceOutcome {
  const role = answer.headers.get(CONTROL.role);
  const error = answer.headers.get(CONTROL.error);
  const collapsed = role === "joined" || role === "late";
  if (error) return { kind: "failed", error: new BrimError(originErrorCode(error), "shared origin fetch failed"), collapsed };
  if (role === "direct") return { kind: "direct", reason: answer.headers.get(CONTROL.reason) ?? "" };
  if (role === "skipped") return { kind: "skipped" };
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

/** Tells the key's object to forget any response it keeps (best effort, never throws). */
export async function invalidateCoalescer(namespace: DurableObjectNamespace<Coalescer>, key: string, now: number): Promise<void> {
  try {
    const headers = new Headers();
    headers.set(CONTROL.mode, "invalidate");
    headers.set(CONTROL.now, String(now));
    const answer = await namespace.get(namespace.idFromName(key)).fetch("https://coalescer.invalid/", { headers });
    await answer.body?.cancel();
  } catch {
    // Without the object there is nothing kept to forget.
  }
}
