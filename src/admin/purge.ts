/**
 * `POST /__brim/purge`: `{ "urls": [...] }`, `{ "prefixes": [...] }`, `{ "tags": [...] }`,
 * `{ "all": true }` (combinable), plus `"soft": true` to mark stale instead of removing.
 * Authenticated with the tenant's admin token by src/admin/; acts on the caller's tenant only
 * (its own `PurgeLog`, and URLs on its own hosts).
 */
import { PURGE_MAX_STALE_MS } from "../constants";
import { invalidateCoalescer } from "../coalesce/client";
import type { Coalescer } from "../coalesce/object";
import { cacheKey } from "../cache/key";
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
  const seq = await ctx.purges.purge(ctx.tenant.id, parsed, ctx.now);
  // A Coalescer keeps the last response for a moment (COALESCE_RECENT_MS); forget it for the
  // URLs named. (Misses after any purge also skip kept responses: see src/cache/handler.ts.)
  if (ctx.coalescer) await Promise.all(parsed.urls.map((url) => forgetKept(ctx, url)));
  ctx.log({
    event: "purged",
    tenant: ctx.tenant.id,
    seq,
    soft: parsed.soft,
    all: parsed.all,
    urls: parsed.urls.length,
    prefixes: parsed.prefixes.length,
    tags: parsed.tags.length,
  });
  const result = {
    ok: true,
    seq,
    soft: parsed.soft,
    all: parsed.all,
    urls: parsed.urls,
    prefixes: parsed.prefixes,
    tags: parsed.tags,
    propagationMs: PURGE_MAX_STALE_MS,
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
