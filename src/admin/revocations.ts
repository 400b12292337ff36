/**
 * `POST /__brim/revocations`: immediate revocation. Body `{ "jti": [...] }` and/or
 * `{ "sub": { "<sub>": <unix seconds> } }` (the published list's format); authenticated with
 * the tenant's admin token. The entries go to the tenant's `RevocationList` object and are
 * enforced by this isolate at once; this isolate also writes its data center's relay copy, so
 * the data center's other isolates follow within `REVOCATION_RELAY_POLL_MS`, other data
 * centers within REFRESH + POLL (src/relay.ts, docs/auth.md). Isolates receive the push as the
 * segments of the list it changed, not the whole list (src/auth/revocation/object.ts).
 */
import { badRequest } from "./respond";
import { parseEntries, type RevocationEntries } from "../auth/revocation/list";
import type { RevocationClient } from "../auth/revocation/client";

export interface PushContext {
  readonly tenantId: string;
  readonly now: number;
  readonly log: (event: Record<string, unknown>) => void;
}

export async function pushRevocations(request: Request, client: RevocationClient, ctx: PushContext): Promise<Response> {
  const entries = await readEntries(request);
  if (typeof entries === "string") {
    ctx.log({ event: "admin-bad-request", tenant: ctx.tenantId, endpoint: "revocations", detail: entries });
    return badRequest(entries);
  }
  const result = await client.push(entries, ctx.now);
  if (!result.ok) {
    ctx.log({ event: "admin-push-refused", tenant: ctx.tenantId, detail: result.detail });
    return badRequest(result.detail);
  }
  ctx.log({ event: "revocations-pushed", tenant: ctx.tenantId, jti: entries.jti.length, sub: Object.keys(entries.sub).length });
  const body = JSON.stringify({ ok: true, jti: entries.jti.length, sub: Object.keys(entries.sub).length });
  return new Response(`${body}\n`, { headers: { "content-type": "application/json", "cache-control": "no-store" } });
}

/** The validated entries, or why they are not acceptable. */
async function readEntries(request: Request): Promise<RevocationEntries | string> {
  // Its size is bounded by hono/body-limit (src/admin/index.ts).
  const bytes = new Uint8Array(await request.arrayBuffer());
  try {
    const entries = parseEntries(JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes)));
    if (entries.jti.length === 0 && Object.keys(entries.sub).length === 0) return "nothing to revoke";
    return entries;
  } catch (error) {
    return `invalid body: ${error instanceof Error ? error.message : String(error)}`;
  }
}
