/**
 * Per-isolate record of keys with a background revalidation in flight, so concurrent stale
 * hits in one isolate start one refresh, not one each. It shares no I/O between requests
 * (workerd forbids awaiting another request's I/O); it only says "someone is on it". Each
 * hold expires on its own, so a lost revalidation cannot block a key forever.
 */
export class RevalidationLocks {
  readonly #until = new Map<string, number>();

  /** True if the caller now holds `key` until `nowMs + holdMs`. */
  tryAcquire(key: string, nowMs: number, holdMs: number): boolean {
    const until = this.#until.get(key);
    if (until !== undefined && until > nowMs) return false;
    this.#until.set(key, nowMs + holdMs);
    return true;
  }

  release(key: string): void {
    this.#until.delete(key);
  }
}
