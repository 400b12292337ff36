/**
 * `POST /__brim/purge`: `{ "urls": [...] }`, `{ "prefixes": [...] }`, `{ "tags": [...] }`,
 * `{ "all": true }` (combinable), plus `"soft": true` to mark stale instead of removing.
 * Authenticated with the tenant's admin token by src/admin/; acts on the caller's tenant only
 * (its own `PurgeLog`, and URLs on its own hosts).
 */
import { PURGE_FORGET_KEPT_MAX_URLS, PURGE_MAX_STALE_MS } from "../constants";
import { invalidateCoalescer } from "../coalesce/client";
import type { Coalescer } from "../coalesce/object";
import { cacheKey } from "../cache/key";
import { metered, newCosts } from "../meter";
import { badRequest } from "./respond";
import type { TenantResolver } from "../tenant/match";
import type { Tenant } from "../tenant/types";
import type { PurgeRegistry } from "../purge/client";
import { parsePurgeRequest } from "../purge/request";

export interface PurgeEndpointContext {
  readonly tenant: Tenant;
  readonly resolver: TenantResolver;
  readonly purges: PurgeRegistry;
  readonly coalescer: DurableObjectNamespace<Coalescer> | null;
  /** Epoch ms. */
  readonly now: number;
  readonly log: (event: Record<string, unknown>) => void;
}

export async function handlePurge(request: Request, ctx: PurgeEndpointContext): Promise<Response> {
  const body = await readJson(request);
  const parsed = typeof body === "string" ? body : parsePurgeRequest(body.value, ctx.tenant, ctx.resolver);
  if (typeof parsed === "string") {
    ctx.log({ event: "admin-bad-request", tenant: ctx.tenant.id, endpoint: "purge", detail: parsed });
    return badRequest(parsed);
  }
  // One PurgeLog call carries every selector (PURGE_MAX_SELECTORS, ADMIN_MAX_BODY_BYTES), and
  // one more object read refreshes this data center's relay: two object calls for any size.
  // Counted here too (admin requests are not in /__brim/stats): the answer says what it cost.
  const costs = newCosts();
  const outcome = await metered(costs, () => ctx.purges.purge(ctx.tenant.id, parsed, ctx.now));
  // A Coalescer keeps the last response for a moment (COALESCE_RECENT_MS): a small URL purge
  // tells each URL's Coalescer to forget it (two calls per URL). Larger purges skip that, so
  // their cost stays bounded: misses of a tenant purged within PURGE_KEPT_BYPASS_MS skip kept
  // responses anyway (src/pipeline/index.ts), as do misses on purged entries.
  const forgotten = ctx.coalescer && parsed.urls.length <= PURGE_FORGET_KEPT_MAX_URLS ? parsed.urls : [];
  await metered(costs, () => Promise.all(forgotten.map((url) => forgetKept(ctx, url))));
  const { seq } = outcome;
  ctx.log({
    event: "purged",
    tenant: ctx.tenant.id,
    seq,
    soft: parsed.soft,
    all: parsed.all,
    urls: parsed.urls.length,
    prefixes: parsed.prefixes.length,
    tags: parsed.tags.length,
    marks: outcome.marks,
    expired: outcome.expired,
  });
  if (outcome.folded > 0)
    ctx.log({ event: "purge-log-folded", tenant: ctx.tenant.id, seq, folded: outcome.folded, marks: outcome.marks, folds: outcome.folds });
  const result = {
    ok: true,
    seq,
    soft: parsed.soft,
    all: parsed.all,
    urls: parsed.urls,
    prefixes: parsed.prefixes,
    tags: parsed.tags,
    propagationMs: PURGE_MAX_STALE_MS,
    // The log after this purge: marks kept, expired and (last resort) folded into a purge of everything.
    log: { marks: outcome.marks, expired: outcome.expired, folded: outcome.folded, folds: outcome.folds },
    // Durable Object calls this purge made, by class (PurgeLog write + relay refresh; Coalescers for small URL purges).
    objectCalls: { purge: costs.objectCalls.purge, coalescer: costs.objectCalls.coalescer },
  };
  return new Response(`${JSON.stringify(result)}\n`, { headers: { "content-type": "application/json", "cache-control": "no-store" } });
}

async function forgetKept(ctx: PurgeEndpointContext, url: string): Promise<void> {
  // Concatenated, not resolved: a canonical path may start with "//" on an opted-out route.
  const target = new URL(`http://purge.invalid${url}`);
  const policy = ctx.resolver.routeFor(ctx.tenant, target.pathname)?.cache;
  if (!policy?.coalesce || !ctx.coalescer) return;
  // The key without request headers or identity: variants keyed on those are covered by the
  // handler's rule instead.
  const key = await cacheKey(ctx.tenant.id, target, policy.key, new Headers());
  await invalidateCoalescer(ctx.coalescer, key.url, ctx.now, "", policy.coalesce.locationHint);
}

/** The parsed body, or what is wrong with it (its size is bounded by hono/body-limit, src/admin/index.ts). */
async function readJson(request: Request): Promise<{ value: unknown } | string> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  try {
    return { value: JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes)) };
  } catch (error) {
    return `invalid JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
}
