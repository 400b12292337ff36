/**
 * The published revocation feed, and whether a parsed one may replace the last good list
 * (pure). The document is
 *
 *     { "iss": "<the tenant's auth.issuer>", "jti": ["id-1"], "sub": { "alice": 1763900000 }, "allowShrink": true, "count": 2 }
 *
 * `iss` is required and must be the tenant's issuer (a list for another issuer revokes the
 * wrong tokens and, worse, none of ours); `jti`, `sub` as in `list.ts`; `allowShrink` and
 * `count` optional. `count`, when present, must equal the number of `jti` and `sub` entries
 * listed (duplicates included): a publisher that states it turns a document cut short by its
 * own pipeline into a rejection. Any other member, or a member of the wrong type, rejects the
 * whole feed: a publisher that changed its format must not be read as "nothing is revoked".
 * So does a feed past the caps (REVOCATION_MAX_JTI, REVOCATION_MAX_SUBJECTS, `too-large`) or one
 * that ends early (`truncated`). The body is parsed as it streams in (`stream.ts`).
 *
 * A list that shrinks to empty, or loses more than `REVOCATION_MAX_SHRINK_FRACTION` of its
 * entries at once, is a truncated or wrong document far more often than a real mass
 * un-revocation, so it is only accepted with `"allowShrink": true`.
 */
import { REVOCATION_MAX_SHRINK_FRACTION } from "../../constants";
import { FeedParser, type FeedRejection, type ParsedFeed, type ParseResult } from "./stream";

export type { FeedRejection } from "./stream";

export type FeedVerdict =
  | { readonly ok: true; readonly feed: ParsedFeed; /** Distinct jti + sub entries. */ readonly size: number }
  | { readonly ok: false; readonly reason: FeedRejection; readonly detail: string };

/**
 * Judges a parsed feed against the size of the last list accepted (`previousSize`, null when
 * there is none to compare with).
 */
export function judgeFeed(parsed: ParseResult, previousSize: number | null): FeedVerdict {
  if (!parsed.ok) return parsed;
  const feed = parsed.feed;
  const size = feed.jti.length + feed.sub.size;
  if (previousSize !== null && previousSize > 0 && !feed.allowShrink) {
    const lost = (previousSize - size) / previousSize;
    if (size === 0) return reject("shrink", `empty list replacing ${previousSize} entries without "allowShrink": true`);
    if (lost > REVOCATION_MAX_SHRINK_FRACTION) {
      return reject("shrink", `${size} entries replacing ${previousSize} (${Math.round(lost * 100)} % fewer) without "allowShrink": true`);
    }
  }
  return { ok: true, feed, size };
}

/** `judgeFeed` of a whole document (tests, small feeds). */
export function checkFeed(text: string, issuer: string, previousSize: number | null): FeedVerdict {
  const parser = new FeedParser(issuer);
  parser.write(text);
  return judgeFeed(parser.end(), previousSize);
}

function reject(reason: FeedRejection, detail: string): FeedVerdict {
  return { ok: false, reason, detail };
}
