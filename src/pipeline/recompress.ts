import type { CacheDeps, CacheRequest } from "./context";
import type { EntryMeta } from "../http/entry";
import type { Chosen } from "../http/accept-encoding";
import { compressBest, RECOMPRESSED_CODINGS, type IdentityCapture, type RecompressedCoding } from "../compress/recompress";

/**
 * The second pass of two-pass compression (docs/compression.md#two-pass-compression), run in
 * the miss's `waitUntil` once its fast variant is committed: compress the same identity bytes
 * at the best level and replace the stored variant with them when they are smaller, keeping
 * every other field of the entry. Only the entry this miss wrote is replaced (its write id),
 * never a newer one, a deleted one, or one a purge already covers.
 */
export async function recompressAfter(
  req: CacheRequest,
  deps: CacheDeps,
  written: Promise<EntryMeta | null>,
  capture: IdentityCapture,
  coding: Chosen,
  storageSeconds: number,
): Promise<void> {
  const committed = await written;
  const startedAt = deps.now();
  // Null when Brim did not compress (the origin's own coding passed through), the body passed
  // the bound, or it did not end cleanly.
  const identity = capture.bytes();
  capture.discard();
  if (committed === null || identity === null || !isRecompressed(coding) || !committed.encoded || committed.recompressed) return;
  const fastBytes = committed.body!.bytes;
  const event = {
    event: "recompress",
    tenant: req.tenant.id,
    route: req.route.path,
    coding,
    identityBytes: identity.byteLength,
    fastBytes,
  };
  try {
    if (purged(req, committed)) return deps.log({ ...event, result: "purged" });
    const best = await compressBest(coding, identity);
    if (best.byteLength >= fastBytes) return;
    await deps.recompress?.beforeReplace?.();
    // The entry's storage time counts from its first write, not from now.
    const remaining = storageSeconds - (deps.now() - startedAt) / 1000;
    if (remaining <= 0) return;
    const store = await deps.store();
    const result = await store.replaceBody(req.key.url, req.varyHeaders, committed.body!.write, best, { recompressed: true }, remaining);
    // The usual outcome is not logged; a lost race is (it costs one pass of wasted CPU).
    if (result !== "replaced") deps.log({ ...event, bestBytes: best.byteLength, result });
  } catch (error) {
    deps.log({ ...event, result: "failed", detail: String(error) });
  }
}

/** A purge this isolate already knows of covers the entry: not worth the CPU (and never revived). */
function purged(req: CacheRequest, meta: EntryMeta): boolean {
  return req.purge !== undefined && req.purge.snapshot.verdict(meta.purge) !== "none";
}

function isRecompressed(coding: Chosen): coding is RecompressedCoding {
  return RECOMPRESSED_CODINGS.has(coding);
}
