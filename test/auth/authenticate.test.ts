/** `authenticateRequest` with a counting verifier: what the verified-token cache saves, and what it never skips. */
import { describe, expect, it } from "vitest";
import { authenticateRequest } from "../../src/auth/authenticate";
import type { Claims } from "../../src/auth/claims";
import type { TenantAuthRuntime } from "../../src/auth/runtime";
import { TokenCache } from "../../src/auth/token-cache";
import { loadConfig } from "../../src/tenant/load";

const NOW = 1_800_000_000_000;

function runtime(claims: Partial<Claims>) {
  const auth = loadConfig({
    tenants: [
      {
        id: "acme",
        hosts: ["a.test"],
        origin: "http://o.test",
        auth: { issuer: "i", audience: "a", secretEnv: "S" },
        routes: [{ path: "/*" }],
      },
    ],
  }).tenants[0]!.auth!;
  let verifications = 0;
  let generation = 0;
  const rt: TenantAuthRuntime = {
    tenantId: "acme",
    auth,
    keys: { resolve: async () => ({ kind: "unavailable", detail: "unused" }), generation: async () => generation, maxReuseSeconds: 600 },
    verify: async () => {
      verifications++;
      return { ok: true, claims: { exp: NOW / 1000 + 60, ...claims } as Claims };
    },
    tokens: new TokenCache(100),
    revocations: null,
  };
  return { rt, verifications: () => verifications, rotateKeys: () => generation++ };
}

const ctx = (now = NOW) => ({ now, waitUntil: () => {}, log: () => {}, env: {} });
const bearer = (token: string) => new Request("http://a.test/", { headers: { authorization: `Bearer ${token}` } });

describe("the verified-token cache", () => {
  it("verifies a repeated token once, until its exp (+ skew)", async () => {
    const { rt, verifications } = runtime({ scope: "read" });
    const route = { mode: "required" as const, scopes: ["read"] };
    for (let i = 0; i < 5; i++) expect((await authenticateRequest(bearer("t1"), route, rt, ctx())).kind).toBe("verified");
    expect(verifications()).toBe(1);
    await authenticateRequest(bearer("t2"), route, rt, ctx());
    expect(verifications()).toBe(2);
    // Past exp + 30 s skew the entry is gone and the token is verified again.
    await authenticateRequest(bearer("t1"), route, rt, ctx(NOW + 91_000));
    expect(verifications()).toBe(3);
  });

  it("never reuses a token verified under other keys: a key change means verifying again", async () => {
    const { rt, verifications, rotateKeys } = runtime({ exp: NOW / 1000 + 3600 });
    const route = { mode: "required" as const, scopes: [] };
    await authenticateRequest(bearer("t"), route, rt, ctx());
    await authenticateRequest(bearer("t"), route, rt, ctx());
    expect(verifications()).toBe(1);
    rotateKeys();
    await authenticateRequest(bearer("t"), route, rt, ctx());
    expect(verifications()).toBe(2);
  });

  it("reuses a verified token at most the key source's max reuse time, even when exp is later", async () => {
    const { rt, verifications } = runtime({ exp: NOW / 1000 + 3600 });
    const route = { mode: "required" as const, scopes: [] };
    await authenticateRequest(bearer("t"), route, rt, ctx());
    await authenticateRequest(bearer("t"), route, rt, ctx(NOW + 599_999));
    expect(verifications()).toBe(1);
    await authenticateRequest(bearer("t"), route, rt, ctx(NOW + 600_000));
    expect(verifications()).toBe(2);
  });

  it("still checks scopes on every request, cached or not", async () => {
    const { rt } = runtime({ scope: "read" });
    await authenticateRequest(bearer("t"), { mode: "required", scopes: ["read"] }, rt, ctx());
    const outcome = await authenticateRequest(bearer("t"), { mode: "required", scopes: ["admin"] }, rt, ctx());
    expect(outcome).toEqual({ kind: "failed", reason: "insufficient-scope" });
  });

  it("an oversized token is refused before it is hashed or verified", async () => {
    const { rt, verifications } = runtime({});
    const outcome = await authenticateRequest(bearer("x".repeat(9000)), { mode: "optional", scopes: [] }, rt, ctx());
    expect(outcome.kind === "failed" && outcome.reason).toBe("oversize");
    expect(verifications()).toBe(0);
    expect(rt.tokens.size).toBe(0);
  });
});
