import { DEFAULT_BODY_IDLE_TIMEOUT_MS } from "../constants";
import type { BrimErrorCode } from "../errors";
import type { CachePolicy } from "../tenant/types";

/**
 * The Worker ↔ Coalescer wire format. The Worker sends the origin request itself (URL and
 * headers as they would go to the origin) plus these control headers; the object answers with
 * the origin's response plus a role. Control headers never reach the origin or the client.
 */
export const CONTROL = {
  mode: "x-brim-co-mode",
  timeoutMs: "x-brim-co-timeout-ms",
  bodyIdleTimeoutMs: "x-brim-co-body-idle-ms",
  policy: "x-brim-co-policy",
  colo: "x-brim-co-colo",
  now: "x-brim-co-now",
  mustValidate: "x-brim-co-must-validate",
  unforwarded: "x-brim-co-unforwarded",
  tier: "x-brim-co-tier",
  key: "x-brim-co-key",
  waitMs: "x-brim-co-wait-ms",
  locationHint: "x-brim-co-location-hint",
  role: "x-brim-co-role",
  store: "x-brim-co-store",
  error: "x-brim-co-error",
  reason: "x-brim-co-reason",
  /** On a data center object's answer: calls it made to the global object for this caller. */
  globalCalls: "x-brim-co-global-calls",
} as const;

/**
 * `colo`: the data center's object for the key (named by colo + key, created near its first
 * caller); its leader asks the global object. `global`: the key's one object for the whole
 * deployment (named by key, placed by `locationHint`); its leader fetches the origin.
 */
export type CoalesceTier = "colo" | "global";

/**
 * `fetch`: a miss or a foreground revalidation. `background`: a stale-while-revalidate
 * refresh. `invalidate`: an unsafe request changed the resource; forget what is kept.
 */
export type CoalesceMode = "fetch" | "background" | "invalidate";

/**
 * - `leader`: this request's fetch is the shared one.
 * - `joined`: it joined a fetch already in flight (RFC 9211 `collapsed`).
 * - `late`: it got a just-completed response the object kept.
 * - `direct`: it must fetch for itself (not shareable, other Vary values, body too large).
 * - `skipped`: a background refresh is already running or just finished.
 * - `unavailable`: (data center tier) the global object could not be reached; nothing fetched.
 */
export type CoalesceRole = "leader" | "joined" | "late" | "direct" | "skipped" | "unavailable";

export interface ControlFields {
  readonly mode: CoalesceMode;
  readonly timeoutMs: number;
  readonly bodyIdleTimeoutMs: number;
  readonly policy: CachePolicy;
  /** Data center of the caller; one caller per data center writes its cache. */
  readonly colo: string;
  /**
   * The caller's clock (epoch ms). Windows the object keeps are judged on the callers'
   * clocks, so the object never disagrees with the Worker about what is fresh.
   */
  readonly now: number;
  /**
   * The client asked for validation (no-cache, max-age, min-fresh): a kept response, however
   * recent, does not satisfy it; a fetch in flight (started before or during this request) does.
   */
  readonly mustValidate: boolean;
  /**
   * The client's request fields that were not forwarded to the origin (src/origin/
   * forward-headers.ts), as [name, value]. A response's Vary may name them: the object compares
   * waiters on these values too, as the cache keys variants on them (RFC 9111 §4.1), so a
   * waiter with another value never gets a response selected for a different one.
   */
  readonly unforwarded: readonly (readonly [string, string])[];
  readonly tier: CoalesceTier;
  /** The cache key URL (names the global object; a data center object is named by colo + key). */
  readonly key: string;
  /** The caller's wait budget (ms): a data center object's call to the global one is bounded by it. */
  readonly waitMs: number;
  /** Where the global object is placed when a data center object first reaches it. */
  readonly locationHint: DurableObjectLocationHint | null;
}

export function writeControl(headers: Headers, fields: ControlFields): void {
  headers.set(CONTROL.mode, fields.mode);
  headers.set(CONTROL.timeoutMs, String(fields.timeoutMs));
  headers.set(CONTROL.bodyIdleTimeoutMs, String(fields.bodyIdleTimeoutMs));
  headers.set(CONTROL.policy, JSON.stringify(fields.policy));
  headers.set(CONTROL.colo, fields.colo);
  headers.set(CONTROL.now, String(fields.now));
  if (fields.mustValidate) headers.set(CONTROL.mustValidate, "1");
  headers.set(CONTROL.tier, fields.tier);
  headers.set(CONTROL.key, fields.key);
  headers.set(CONTROL.waitMs, String(fields.waitMs));
  if (fields.locationHint) headers.set(CONTROL.locationHint, fields.locationHint);
  if (fields.unforwarded.length > 0) headers.set(CONTROL.unforwarded, encodeURIComponent(JSON.stringify(fields.unforwarded)));
}

/** Reads and removes the control headers, leaving the request as the origin should see it. */
export function takeControl(headers: Headers): ControlFields {
  const fields: ControlFields = {
    mode: parseMode(headers.get(CONTROL.mode)),
    timeoutMs: Number(headers.get(CONTROL.timeoutMs)),
    bodyIdleTimeoutMs: Number(headers.get(CONTROL.bodyIdleTimeoutMs)) || DEFAULT_BODY_IDLE_TIMEOUT_MS,
    policy: JSON.parse(headers.get(CONTROL.policy) ?? "null") as CachePolicy,
    colo: headers.get(CONTROL.colo) ?? "",
    now: Number(headers.get(CONTROL.now)) || Date.now(),
    mustValidate: headers.get(CONTROL.mustValidate) === "1",
    unforwarded: parseUnforwarded(headers.get(CONTROL.unforwarded)),
    tier: headers.get(CONTROL.tier) === "colo" ? "colo" : "global",
    key: headers.get(CONTROL.key) ?? "",
    waitMs: Number(headers.get(CONTROL.waitMs)) || Number(headers.get(CONTROL.timeoutMs)),
    locationHint: (headers.get(CONTROL.locationHint) as DurableObjectLocationHint | null) ?? null,
  };
  for (const name of Object.values(CONTROL)) headers.delete(name);
  return fields;
}

export function roleHeaders(
  role: CoalesceRole,
  extra: { store?: boolean; error?: BrimErrorCode; reason?: string; globalCalls?: number } = {},
): Headers {
  const headers = new Headers({ [CONTROL.role]: role });
  if (extra.globalCalls) headers.set(CONTROL.globalCalls, String(extra.globalCalls));
  if (extra.store !== undefined) headers.set(CONTROL.store, extra.store ? "1" : "0");
  if (extra.error) headers.set(CONTROL.error, extra.error);
  if (extra.reason) headers.set(CONTROL.reason, extra.reason);
  return headers;
}

function parseMode(value: string | null): CoalesceMode {
  return value === "background" || value === "invalidate" ? value : "fetch";
}

function parseUnforwarded(value: string | null): readonly (readonly [string, string])[] {
  if (value === null) return [];
  try {
    const parsed: unknown = JSON.parse(decodeURIComponent(value));
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (pair): pair is [string, string] => Array.isArray(pair) && typeof pair[0] === "string" && typeof pair[1] === "string",
    );
  } catch {
    return [];
  }
}
