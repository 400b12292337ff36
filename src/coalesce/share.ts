import { normalizeHeaderValue } from "../http/key-material";
import { fieldNames } from "../http/cache-control";
import { parseVary, responseDirectives } from "../http/storability";

/** Why a response cannot be handed to other waiters. */
export type NotShareableReason = "no-store" | "private" | "set-cookie" | "vary-star" | "authorization";

export type Shareability =
  | { readonly shareable: true; readonly vary: readonly string[]; readonly authOk: boolean }
  | { readonly shareable: false; readonly reason: NotShareableReason };

/**
 * Whether a response fetched for one request may be given to others waiting on the same key.
 * The rule is the shared-cache one (RFC 9111 §3, §3.5) without the freshness part: a response
 * nobody may store is one nobody else may see, but a response with no freshness (or an error)
 * can still answer requests that were already waiting for it.
 */
export function shareability(headers: Headers, leaderHadAuthorization: boolean): Shareability {
  const { directives } = responseDirectives(headers);
  if (directives.has("no-store")) return { shareable: false, reason: "no-store" };
  if (fieldNames(directives, "private") !== null) return { shareable: false, reason: "private" };
  if (headers.has("set-cookie")) return { shareable: false, reason: "set-cookie" };
  const vary = parseVary(headers.get("vary"));
  if (vary.includes("*")) return { shareable: false, reason: "vary-star" };
  const authOk = directives.has("public") || directives.has("s-maxage") || directives.has("must-revalidate");
  if (leaderHadAuthorization && !authOk) return { shareable: false, reason: "authorization" };
  return { shareable: true, vary, authOk };
}

/**
 * Whether a shareable response fetched with `leader`'s headers also answers `waiter`: the
 * Vary fields must carry the same values (RFC 9111 §4.1), and a waiter with credentials only
 * gets responses marked shareable for them (RFC 9111 §3.5).
 */
export function answersWaiter(share: Extract<Shareability, { shareable: true }>, leader: Headers, waiter: Headers): boolean {
  if (waiter.has("authorization") && !share.authOk) return false;
  return share.vary.every((name) => normalizeHeaderValue(leader.get(name)) === normalizeHeaderValue(waiter.get(name)));
}
