/**
 * Whether a fetched revocation feed may replace the last good list (pure). The published
 * document is
 *
 *     { "iss": "<the tenant's auth.issuer>", "jti": ["id-1"], "sub": { "alice": 1763900000 }, "allowShrink": true }
 *
 * `iss` is required and must be the tenant's issuer (a list for another issuer revokes the
 * wrong tokens and, worse, none of ours); `jti`, `sub` as in `list.ts`; `allowShrink`
 * optional. Any other member, or a member of the wrong type, rejects the whole feed: a
 * publisher that changed its format must not be read as "nothing is revoked".
 *
 * A list that shrinks to empty, or loses more than `REVOCATION_MAX_SHRINK_FRACTION` of its
 * entries at once, is a truncated or wrong document far more often than a real mass
 * un-revocation, so it is only accepted with `"allowShrink": true`.
 */
import { REVOCATION_MAX_SHRINK_FRACTION } from "../../constants";
import { parseEntries, type RevocationEntries } from "./list";

/** Why a feed was rejected; the last good list stays in force. */
export type FeedRejection = "not-json" | "schema" | "wrong-issuer" | "shrink";

export type FeedVerdict =
  | { readonly ok: true; readonly entries: RevocationEntries; /** jti + sub entries. */ readonly size: number }
  | { readonly ok: false; readonly reason: FeedRejection; readonly detail: string };

const FEED_MEMBERS: ReadonlySet<string> = new Set(["iss", "jti", "sub", "allowShrink"]);

/**
 * Checks a fetched feed against the tenant's issuer and the size of the last list accepted
 * (`previousSize`, null when there is none to compare with).
 */
export function checkFeed(text: string, issuer: string, previousSize: number | null): FeedVerdict {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return reject("not-json", "the feed is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return reject("schema", "expected a JSON object");
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((name) => !FEED_MEMBERS.has(name));
  if (unknown.length > 0) return reject("schema", `unknown member ${JSON.stringify(unknown[0]?.slice(0, 64))}`);
  if (record.allowShrink !== undefined && typeof record.allowShrink !== "boolean")
    return reject("schema", '"allowShrink" must be true or false');
  if (typeof record.iss !== "string") return reject("wrong-issuer", '"iss" is missing');
  if (record.iss !== issuer)
    return reject("wrong-issuer", `"iss" is ${JSON.stringify(record.iss.slice(0, 128))}, not ${JSON.stringify(issuer)}`);
  let entries: RevocationEntries;
  try {
    entries = parseEntries({ jti: record.jti, sub: record.sub });
  } catch (error) {
    return reject("schema", error instanceof Error ? error.message : String(error));
  }
  const size = entries.jti.length + Object.keys(entries.sub).length;
  if (previousSize !== null && previousSize > 0 && record.allowShrink !== true) {
    const lost = (previousSize - size) / previousSize;
    if (size === 0) return reject("shrink", `empty list replacing ${previousSize} entries without "allowShrink": true`);
    if (lost > REVOCATION_MAX_SHRINK_FRACTION) {
      return reject("shrink", `${size} entries replacing ${previousSize} (${Math.round(lost * 100)} % fewer) without "allowShrink": true`);
    }
  }
  return { ok: true, entries, size };
}

function reject(reason: FeedRejection, detail: string): FeedVerdict {
  return { ok: false, reason, detail };
}
