/**
 * The isolate's view of a tenant's revocation list. Read from the tenant's `RevocationList`
 * Durable Object at most once per `REVOCATION_ISOLATE_TTL_MS`, in the background (only a
 * cold isolate, holding no list yet, waits for the read); unchanged lists cost no transfer.
 * Staleness is judged from when the publisher last confirmed the list, not when this isolate
 * read it, so a publisher outage is seen everywhere alike.
 */
import { REVOCATION_ISOLATE_TTL_MS, REVOCATION_READ_TIMEOUT_MS } from "../../constants";
import type { RevocationPolicy } from "../../tenant/types";
import type { Claims } from "../claims";
import { mergeSubjects, revokedReason, type RevocationEntries, type RevocationSnapshot, type RevokedReason } from "./list";
import type { PushResult, ReadResult, RevocationList, RevocationSource } from "./object";
import { FingerprintSet } from "./set";

export interface RevocationContext {
  /** Epoch ms (the injected clock). */
  readonly now: number;
  readonly waitUntil: (promise: Promise<unknown>) => void;
  readonly log: (event: Record<string, unknown>) => void;
}

export type RevocationCheck =
  | { readonly kind: "ok"; readonly stale: boolean }
  | { readonly kind: "revoked"; readonly reason: RevokedReason }
  /** Older than maxStaleSeconds (or none at all) and onStale is "deny". */
  | { readonly kind: "stale"; readonly ageSeconds: number | null };

/** Options of `RevocationClient`. */
export interface RevocationClientOptions {
  readonly tenantId: string;
  /** The tenant's `auth.issuer`: the published feed must name it in `iss`. */
  readonly issuer: string;
  readonly policy: RevocationPolicy;
  readonly namespace: DurableObjectNamespace<RevocationList>;
}

export class RevocationClient {
  readonly #tenantId: string;
  readonly #policy: RevocationPolicy;
  readonly #namespace: DurableObjectNamespace<RevocationList>;
  readonly #source: RevocationSource;
  #snapshot: RevocationSnapshot | null = null;
  /** Pushes handled by this isolate, enforced here before the object's next version arrives. */
  #local: { jti: Set<string>; sub: Map<string, number> } = { jti: new Set(), sub: new Map() };
  #readAt = Number.NEGATIVE_INFINITY;
  /** Real-time deadline of the read in flight; never shared as a promise across requests. */
  #readingUntil = 0;

  constructor(options: RevocationClientOptions) {
    this.#tenantId = options.tenantId;
    this.#policy = options.policy;
    this.#namespace = options.namespace;
    this.#source = {
      url: options.policy.url,
      refreshSeconds: options.policy.refreshSeconds,
      issuer: options.issuer,
      tenantId: options.tenantId,
    };
  }

  /** The object for this tenant and list URL: tenant id and URL only, never a token. */
  #stub(): DurableObjectStub<RevocationList> {
    return this.#namespace.get(this.#namespace.idFromName(`${this.#tenantId}\n${this.#policy.url}`));
  }

  /** Whether the verified token is revoked, or the list too old to trust. */
  async check(claims: Claims, ctx: RevocationContext): Promise<RevocationCheck> {
    if (this.#snapshot === null) await this.#read(ctx);
    else if (ctx.now - this.#readAt >= REVOCATION_ISOLATE_TTL_MS && Date.now() >= this.#readingUntil) ctx.waitUntil(this.#read(ctx));
    const snapshot = this.#snapshot;
    const local = revokedReason(this.#local, claims);
    if (local) return { kind: "revoked", reason: local };
    const reason = snapshot ? revokedReason(snapshot, claims) : null;
    if (reason) return { kind: "revoked", reason };
    const fetchedAt = snapshot?.fetchedAt ?? null;
    const ageSeconds = fetchedAt === null ? null : Math.max(0, (ctx.now - fetchedAt) / 1000);
    const stale = ageSeconds === null || ageSeconds > this.#policy.maxStaleSeconds;
    if (!stale) return { kind: "ok", stale: false };
    if (this.#policy.onStale === "deny") return { kind: "stale", ageSeconds };
    ctx.log({ event: "revocation-stale-allowed", tenant: this.#tenantId, ageSeconds });
    return { kind: "ok", stale: true };
  }

  /** Sends a push to the object and enforces it in this isolate at once. */
  async push(entries: RevocationEntries, now: number): Promise<PushResult> {
    const result = await this.#stub().push({ source: this.#source, now, entries });
    if (result.ok) {
      for (const id of entries.jti) this.#local.jti.add(id);
      mergeSubjects(this.#local.sub, entries.sub);
      // Make the next request re-read, so the object's merged version replaces the overlay soon.
      this.#readAt = Number.NEGATIVE_INFINITY;
    }
    return result;
  }

  async #read(ctx: RevocationContext): Promise<void> {
    this.#readingUntil = Date.now() + REVOCATION_READ_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const deadline = new Promise<never>(
        (_, reject) =>
          (timer = setTimeout(() => reject(new Error(`no answer within ${REVOCATION_READ_TIMEOUT_MS} ms`)), REVOCATION_READ_TIMEOUT_MS)),
      );
      const result: ReadResult = await Promise.race([
        this.#stub().read({ source: this.#source, now: ctx.now, have: this.#snapshot?.version ?? null }),
        deadline,
      ]);
      this.#readAt = ctx.now;
      this.#apply(result);
    } catch (error) {
      ctx.log({ event: "revocation-read-failed", tenant: this.#tenantId, detail: String(error), keptLastGood: this.#snapshot !== null });
    } finally {
      clearTimeout(timer);
      this.#readingUntil = 0;
    }
  }

  #apply(result: ReadResult): void {
    if (result.version === null) {
      this.#snapshot = { version: "", fetchedAt: result.fetchedAt, jti: FingerprintSet.EMPTY, sub: new Map() };
      return;
    }
    if (!result.data && this.#snapshot) {
      this.#snapshot = { ...this.#snapshot, fetchedAt: result.fetchedAt };
      return;
    }
    if (!result.data) return;
    this.#snapshot = {
      version: result.version,
      fetchedAt: result.fetchedAt,
      jti: FingerprintSet.fromSorted(result.data.jti),
      sub: new Map(Object.entries(result.data.sub)),
    };
    // Drop the local overlay once the object's list carries it (a read that started before
    // the push may not).
    const snapshot = this.#snapshot;
    if (!snapshot) return;
    for (const id of this.#local.jti) if (snapshot.jti.has(id)) this.#local.jti.delete(id);
    for (const [name, at] of this.#local.sub) if ((snapshot.sub.get(name) ?? Number.NEGATIVE_INFINITY) >= at) this.#local.sub.delete(name);
  }
}
