/**
 * Decides one request's identity: anonymous, verified (with its claims), or failed with a
 * precise reason. Order: credential (exactly one, never in the query) → size → verified-token
 * cache (only entries verified under the current key set) or full verification → revocation
 * (every request, cached or not) → scopes.
 */
import type { RouteAuth } from "../tenant/types";
import { hasScopes, type Claims } from "./claims";
import type { AuthFailure } from "./failure";
import { tokenHash } from "./hash";
import type { KeyContext } from "./keys";
import type { TenantAuthRuntime } from "./runtime";
import { findCredential } from "./credentials";
import type { FoundToken } from "./token";

export type AuthOutcome =
  | { readonly kind: "anonymous" }
  | {
      readonly kind: "verified";
      readonly claims: Claims;
      readonly source: FoundToken["source"];
      readonly cached: boolean;
      readonly staleList: boolean;
    }
  | { readonly kind: "failed"; readonly reason: AuthFailure; readonly detail?: string };

export async function authenticateRequest(
  request: Request,
  route: RouteAuth,
  rt: TenantAuthRuntime,
  ctx: KeyContext,
): Promise<AuthOutcome> {
  const { auth } = rt;
  const credential = findCredential(request.url, request.headers, auth.token);
  if (credential.kind === "invalid-request") return { kind: "failed", reason: "invalid-request", detail: credential.detail };
  if (credential.kind === "none") return route.mode === "required" ? { kind: "failed", reason: "missing-token" } : { kind: "anonymous" };
  const found = credential.found;
  // Before hashing: an oversized token must cost nothing.
  if (found.token.length > auth.maxTokenBytes) return { kind: "failed", reason: "oversize", detail: `${found.token.length} bytes` };

  const hash = await tokenHash(found.token);
  // Read before verifying: should the keys change meanwhile, the entry is simply not reused.
  const generation = await rt.keys.generation(ctx);
  let claims = rt.tokens.get(hash, ctx.now, generation);
  const cached = claims !== null;
  if (!claims) {
    const result = await rt.verify(found.token, ctx);
    if (!result.ok) return { kind: "failed", reason: result.reason, ...(result.detail ? { detail: result.detail } : {}) };
    claims = result.claims;
    const until = Math.min((claims.exp + auth.clockSkewSeconds) * 1000, ctx.now + rt.keys.maxReuseSeconds * 1000);
    rt.tokens.set(hash, claims, until, generation);
  }

  let staleList = false;
  if (auth.revocation) {
    if (!rt.revocations) {
      // No Durable Object namespace: the list can never be read, so it is always "stale".
      if (auth.revocation.onStale === "deny") return { kind: "failed", reason: "revocation-stale", detail: "no RevocationList namespace" };
      staleList = true;
    } else {
      const check = await rt.revocations.check(claims, ctx);
      if (check.kind === "revoked") return { kind: "failed", reason: check.reason };
      if (check.kind === "stale")
        return {
          kind: "failed",
          reason: "revocation-stale",
          detail: check.ageSeconds === null ? "no list yet" : `list is ${Math.round(check.ageSeconds)} s old`,
        };
      staleList = check.stale;
    }
  }
  if (!hasScopes(claims, route.scopes)) return { kind: "failed", reason: "insufficient-scope" };
  return { kind: "verified", claims, source: found.source, cached, staleList };
}
