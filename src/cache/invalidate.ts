/**
 * Targets a successful unsafe request invalidates (RFC 9111 §4.4): the request URI, and the
 * Location / Content-Location URIs when they are on the same host (a cache must not let one
 * origin invalidate another's entries).
 */
export function invalidationTargets(requestUrl: string, status: number, headers: Headers): URL[] {
  if (status < 200 || status >= 400) return [];
  const base = new URL(requestUrl);
  const targets = [base];
  for (const name of ["location", "content-location"]) {
    const value = headers.get(name);
    if (!value) continue;
    try {
      const target = new URL(value, base);
      if (target.host === base.host && target.protocol === base.protocol && target.href !== base.href) targets.push(target);
    } catch {
      // An unparseable Location invalidates nothing extra.
    }
  }
  return targets;
}
