/** The pure parts of auth, table-driven: claim checks, scopes, token extraction, header values, the token LRU. */
import { describe, expect, it } from "vitest";
import { checkClaims, hasScopes, type Claims } from "../../src/auth/claims";
import { headerValue } from "../../src/auth/forward";
import { checkFeed } from "../../src/auth/revocation/feed";
import { revokedReason } from "../../src/auth/revocation/list";
import { FingerprintSet } from "../../src/auth/revocation/set";
import { TokenCache } from "../../src/auth/token-cache";
import { cookieValue, findToken, withoutCookie } from "../../src/auth/token";

const NOW = 1_800_000_000;
const POLICY = { issuer: "https://idp.test", audience: ["api", "api2"], clockSkewSeconds: 30, maxLifetimeSeconds: null };
const OK = { iss: "https://idp.test", aud: "api", exp: NOW + 60 };

describe("checkClaims", () => {
  it.each([
    ["valid", OK, null],
    ["aud as a list with one of ours", { ...OK, aud: ["other", "api2"] }, null],
    ["exp just inside the skew", { ...OK, exp: NOW - 29 }, null],
    ["exp at the skew boundary", { ...OK, exp: NOW - 30 }, "expired"],
    ["missing exp", { iss: OK.iss, aud: OK.aud }, "missing-exp"],
    ["exp as a string", { ...OK, exp: String(NOW + 60) }, "bad-time-claim"],
    ["nbf inside the skew", { ...OK, nbf: NOW + 30 }, null],
    ["nbf beyond the skew", { ...OK, nbf: NOW + 31 }, "not-yet-valid"],
    ["iat beyond the skew", { ...OK, iat: NOW + 31 }, "issued-in-future"],
    ["wrong iss", { ...OK, iss: "https://idp.test/" }, "wrong-issuer"],
    ["no iss", { aud: "api", exp: NOW + 60 }, "wrong-issuer"],
    ["wrong aud", { ...OK, aud: "apix" }, "wrong-audience"],
    ["aud list of non-strings", { ...OK, aud: [1, null] }, "wrong-audience"],
    ["not an object", [OK], "claims-not-object"],
    ["null", null, "claims-not-object"],
  ])("%s", (_name, payload, reason) => {
    const result = checkClaims(payload, POLICY, NOW);
    expect(result.ok ? null : result.reason).toBe(reason);
  });
});

describe("hasScopes", () => {
  const claims = (extra: Record<string, unknown>) => ({ exp: 1, ...extra }) as Claims;
  it.each([
    [{ scope: "read write" }, ["read"], true],
    [{ scope: "read write" }, ["read", "admin"], false],
    [{ scp: ["admin", "read"] }, ["admin"], true],
    [{ scp: "admin read" }, ["read"], true],
    [{}, [], true],
    [{}, ["read"], false],
    [{ scope: "readwrite" }, ["read"], false],
  ])("%j needs %j → %s", (extra, required, expected) => {
    expect(hasScopes(claims(extra), required)).toBe(expected);
  });
});

describe("findToken", () => {
  const h = (init: Record<string, string>) => new Headers(init);
  it.each([
    ["Bearer", { authorization: "Bearer abc.def.ghi" }, "authorization", null, "abc.def.ghi"],
    ["case-insensitive scheme", { authorization: "bEaReR   abc" }, "authorization", null, "abc"],
    ["Basic is not ours", { authorization: "Basic dXNlcg==" }, "authorization", null, null],
    ["bare token not accepted in Authorization", { authorization: "abc" }, "authorization", null, null],
    ["bare token in a custom header", { "x-token": "abc" }, "x-token", null, "abc"],
    ["cookie", { cookie: "a=1; session=tok; b=2" }, "authorization", "session", "tok"],
    ["header before cookie", { authorization: "Bearer h", cookie: "session=c" }, "authorization", "session", "h"],
    ["cookie name must match exactly", { cookie: "xsession=tok" }, "authorization", "session", null],
  ])("%s", (_name, headers, header, cookie, token) => {
    expect(findToken(h(headers), header, cookie)?.token ?? null).toBe(token);
  });

  it("cookie helpers", () => {
    expect(cookieValue('a=1; s="quoted"', "s")).toBe("quoted");
    expect(withoutCookie("a=1; session=t; b=2", "session")).toBe("a=1; b=2");
    expect(withoutCookie("session=t", "session")).toBeNull();
  });
});

describe("headerValue (claims forwarded to the origin)", () => {
  it.each([
    ["alice", "alice"],
    ["Zoë", "Zo%C3%AB"],
    ["a\r\nInjected: 1", "a%0D%0AInjected%3A%201"],
    [42, "42"],
    [true, "true"],
    [["a", "b", 3], "a,b,3"],
    [{ nested: 1 }, null],
    [null, null],
    [undefined, null],
  ])("%j → %j", (value, expected) => {
    expect(headerValue(value)).toBe(expected);
  });
});

describe("TokenCache", () => {
  const claims = { exp: 1 } as Claims;
  it("forgets entries at their end and evicts the least recently used", () => {
    const cache = new TokenCache(2);
    cache.set("a", claims, 1000, 0);
    cache.set("b", claims, 5000, 0);
    expect(cache.get("a", 999, 0)).toBe(claims);
    cache.set("c", claims, 5000, 0);
    expect(cache.get("b", 0, 0)).toBeNull();
    expect(cache.get("a", 999, 0)).toBe(claims);
    expect(cache.get("a", 1000, 0)).toBeNull();
    expect(cache.size).toBe(1);
  });

  it("never reuses an entry under another key generation than the one that verified it", () => {
    const cache = new TokenCache(10);
    cache.set("a", claims, 5000, 1);
    expect(cache.get("a", 0, 2)).toBeNull();
    // Dropped, not kept for a later return to generation 1.
    expect(cache.get("a", 0, 1)).toBeNull();
    cache.set("b", claims, 5000, 2);
    expect(cache.get("b", 0, 2)).toBe(claims);
  });
});

describe("revocation lookups", () => {
  it("FingerprintSet finds exactly its ids, merges and de-duplicates", () => {
    const set = FingerprintSet.fromIds(["a", "b", "a", "c"]);
    expect(set.size).toBe(3);
    expect(["a", "b", "c"].every((id) => set.has(id))).toBe(true);
    expect(set.has("d")).toBe(false);
    const more = set.withIds(["d", "a"]);
    expect(more.size).toBe(4);
    expect(more.has("d")).toBe(true);
    expect(set.has("d")).toBe(false);
    expect(FingerprintSet.EMPTY.has("a")).toBe(false);
  });

  it("revokedReason: jti, and subjects by iat against the cut-off", () => {
    const list = { jti: new Set(["j1"]), sub: new Map([["alice", 100]]) };
    const c = (extra: Record<string, unknown>) => ({ exp: 1, ...extra }) as Claims;
    expect(revokedReason(list, c({ jti: "j1" }))).toBe("revoked-jti");
    expect(revokedReason(list, c({ sub: "alice", iat: 99 }))).toBe("revoked-sub");
    expect(revokedReason(list, c({ sub: "alice", iat: 100 }))).toBeNull();
    expect(revokedReason(list, c({ sub: "alice" }))).toBe("revoked-sub");
    expect(revokedReason(list, c({ sub: "bob", iat: 1, jti: "j2" }))).toBeNull();
  });
});

describe("checkFeed: the shrink rule", () => {
  const feed = (jti: number, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ iss: "i", jti: Array.from({ length: jti }, (_, n) => `j${n}`), ...extra });
  it.each([
    ["the first list, empty", feed(0), null, null],
    ["empty after empty", feed(0), 0, null],
    ["half of the entries lost", feed(2), 4, null],
    ["more than half lost", feed(1), 4, "shrink"],
    ["empty after one", feed(0), 1, "shrink"],
    ["empty with allowShrink", feed(0, { allowShrink: true }), 1_000, null],
    ["growing", feed(9), 4, null],
    ["subjects count as entries", JSON.stringify({ iss: "i", jti: ["a"], sub: { s: 1 } }), 4, null],
  ])("%s", (_name, text, previous, reason) => {
    const verdict = checkFeed(text, "i", previous);
    expect(verdict.ok ? null : verdict.reason).toBe(reason);
  });
});
