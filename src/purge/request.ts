/** `POST /__brim/purge` bodies (pure): validated, with the first problem named. */
import { PURGE_MAX_SELECTORS, PURGE_MAX_TAG_BYTES } from "../constants";
import { normalizePath, normalizeQuery } from "../http/key-material";
import { rawPathOf } from "../http/path";
import type { TenantResolver } from "../tenant/match";
import type { Tenant } from "../tenant/types";

/** A validated purge, every selector normalised the way entries record theirs. */
export interface PurgeRequest {
  readonly all: boolean;
  readonly soft: boolean;
  /** Normalised path + the query as the URL's route keys it. */
  readonly urls: readonly string[];
  readonly prefixes: readonly string[];
  readonly tags: readonly string[];
}

const FIELDS = new Set(["urls", "prefixes", "tags", "all", "soft"]);
const TAG = /^[^\s,]+$/;

/**
 * Checks a parsed JSON body. URLs may be paths (`/a?b=1`) or absolute URLs on one of the
 * tenant's own hosts: a tenant can only name its own content. Returns the request, or why not.
 */
export function parsePurgeRequest(body: unknown, tenant: Tenant, resolver: TenantResolver): PurgeRequest | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "body: expected a JSON object";
  const record = body as Record<string, unknown>;
  for (const name of Object.keys(record)) if (!FIELDS.has(name)) return `${name}: unknown field (expected urls, prefixes, tags, all, soft)`;
  if (record.all !== undefined && record.all !== true) return "all: expected true";
  if (record.soft !== undefined && typeof record.soft !== "boolean") return "soft: expected a boolean";
  const lists: Record<"urls" | "prefixes" | "tags", string[]> = { urls: [], prefixes: [], tags: [] };
  let total = 0;
  for (const name of ["urls", "prefixes", "tags"] as const) {
    const value = record[name];
    if (value === undefined) continue;
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string" || item.length === 0))
      return `${name}: expected a list of non-empty strings`;
    lists[name] = value as string[];
    total += value.length;
  }
  if (total > PURGE_MAX_SELECTORS) return `at most ${PURGE_MAX_SELECTORS} urls, prefixes and tags per request, got ${total}`;
  if (total === 0 && record.all !== true) return 'nothing to purge: give urls, prefixes, tags or "all": true';

  const urls: string[] = [];
  for (const [index, raw] of lists.urls.entries()) {
    const url = purgeUrl(raw, tenant, resolver);
    if (typeof url !== "string") return `urls[${index}]: ${url.problem}`;
    urls.push(url);
  }
  const prefixes: string[] = [];
  for (const [index, raw] of lists.prefixes.entries()) {
    if (!raw.startsWith("/")) return `prefixes[${index}]: expected a path starting with "/"`;
    prefixes.push(normalizePath(raw));
  }
  for (const [index, tag] of lists.tags.entries()) {
    if (!TAG.test(tag) || tag.length > PURGE_MAX_TAG_BYTES)
      return `tags[${index}]: expected a tag without spaces or commas, at most ${PURGE_MAX_TAG_BYTES} characters`;
  }
  return { all: record.all === true, soft: record.soft === true, urls, prefixes, tags: lists.tags };
}

/** The entry URL a purge URL names: path and, as the route keys it, the query. */
function purgeUrl(raw: string, tenant: Tenant, resolver: TenantResolver): string | { problem: string } {
  let url: URL;
  try {
    url = new URL(raw, "http://purge.invalid");
  } catch {
    return { problem: "expected a path or an absolute http(s) URL" };
  }
  if (raw.startsWith("/")) {
    if (raw.startsWith("//")) return { problem: "expected a path or an absolute http(s) URL" };
  } else if ((url.protocol !== "http:" && url.protocol !== "https:") || !tenant.hosts.includes(url.host.toLowerCase())) {
    return { problem: `host ${url.host || "(none)"} is not one of this tenant's hosts` };
  }
  // The path as a request for it is keyed: canonical, or refused as a request would be.
  const resolved = resolver.resolvePath(tenant, rawPathOf(url.href));
  if (!resolved.ok && resolved.reason !== "no-route")
    return { problem: `ambiguous path (${resolved.reason}); requests for it are refused, so nothing is stored under it` };
  const path = resolved.ok ? resolved.path : normalizePath(url.pathname);
  const policy = resolved.ok ? resolved.route.cache : null;
  return `${path}${normalizeQuery(url.search, policy ? policy.key.query : { mode: "all" })}`;
}
