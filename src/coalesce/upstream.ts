import { COALESCE_GLOBAL_ATTEMPTS, COALESCE_RETRY_BACKOFF_MS } from "../constants";
import type { BrimErrorCode } from "../errors";
import { BODY_FAULT_EVENTS } from "../http/body";
import { fetchOrigin } from "../http/fetch";
import { askCoalescer, coalescerStub } from "./client";
import type { Coalescer } from "./object";
import type { ControlFields } from "./protocol";

/**
 * (Data center tier) the global object answered with no response, or could not be reached.
 * `unavailable` with reason `coalesce-timeout` is the caller's wait running out, as if it had
 * waited itself; any other reason, the global object failing after the bounded retries.
 */
export type Signal = { readonly kind: "signal"; readonly role: "direct" | "skipped" | "unavailable"; readonly reason: string };

/** What a flight's leader gets from upstream: the origin (global tier) or the global object (data center tier). */
export type Upstream =
  | { readonly kind: "response"; readonly response: Response; readonly store: boolean; readonly collapsed: boolean }
  | { readonly kind: "failed"; readonly code: BrimErrorCode }
  | Signal;

/** The global tier's upstream: the origin itself, bypassing Cloudflare's cache (src/http/fetch.ts). */
export async function fetchFromOrigin(originRequest: Request, control: ControlFields): Promise<Upstream> {
  const fetched = await fetchOrigin((r, init) => fetch(r, init), originRequest, {
    timeoutMs: control.timeoutMs,
    bodyIdleTimeoutMs: control.bodyIdleTimeoutMs,
    // The object's own log line; each caller also logs the fault it sees (src/pipeline/upstream.ts).
    onFault: (fault) => console.log(JSON.stringify({ event: BODY_FAULT_EVENTS[fault.kind], where: "coalescer", detail: fault.message })),
  });
  return fetched.ok
    ? { kind: "response", response: fetched.response, store: true, collapsed: false }
    : { kind: "failed", code: fetched.error.code };
}

/**
 * The data center tier's upstream: the key's global object, asked once for the whole data
 * center. A failed call is retried (COALESCE_GLOBAL_ATTEMPTS in all, a new stub each time: a
 * stub that saw its object reset stays broken), except when the object said it is overloaded
 * (retrying would add to its load) or the wait ran out (the callers' budget is spent). Then
 * `unavailable`: the callers serve stale or refuse (src/pipeline/upstream.ts). Also returns
 * how many calls reached for the global object, for the caller's `meter("coalescer")`.
 */
export async function askGlobal(
  namespace: DurableObjectNamespace<Coalescer>,
  originRequest: Request,
  control: ControlFields,
): Promise<{ upstream: Upstream; globalCalls: number }> {
  let reason = "";
  let attempt = 1;
  for (; attempt <= COALESCE_GLOBAL_ATTEMPTS; attempt++) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, COALESCE_RETRY_BACKOFF_MS * (attempt - 1)));
    const stub = coalescerStub(namespace, "global", control.key, "", control.locationHint);
    const { outcome } = await askCoalescer(stub, originRequest, { ...control, tier: "global" });
    switch (outcome.kind) {
      case "response":
        return {
          upstream: { kind: "response", response: outcome.response, store: outcome.store, collapsed: outcome.collapsed },
          globalCalls: attempt,
        };
      case "failed":
        return { upstream: { kind: "failed", code: outcome.error.code }, globalCalls: attempt };
      case "direct":
        return { upstream: { kind: "signal", role: "direct", reason: outcome.reason }, globalCalls: attempt };
      case "skipped":
        return { upstream: { kind: "signal", role: "skipped", reason: "in-flight" }, globalCalls: attempt };
      case "unavailable":
        reason = outcome.reason;
        break;
      case "fallback":
        reason = outcome.reason;
        console.log(JSON.stringify({ event: "coalesce-global-failed", attempt, reason: outcome.reason, detail: outcome.detail }));
        if (outcome.reason === "coalesce-timeout" || outcome.overloaded)
          return { upstream: { kind: "signal", role: "unavailable", reason }, globalCalls: attempt };
    }
  }
  return { upstream: { kind: "signal", role: "unavailable", reason }, globalCalls: attempt - 1 };
}
