/** `cache.cookies` and `cache.forwardUnkeyed` (src/tenant/config-forward.ts): defaults, normalization, problems. */
import { describe, expect, it } from "vitest";
import { OVERRIDE_REQUEST_HEADERS, SHARED_FETCH_REQUEST_HEADERS } from "../../src/constants";
import { ConfigError, loadConfig } from "../../src/tenant/load";
import type { CachePolicy } from "../../src/tenant/types";

const C = "tenants[0].routes[0].cache";

function withCache(cache: unknown): unknown {
  return { tenants: [{ id: "acme", hosts: ["acme.test"], origin: "http://o.test", routes: [{ path: "/*", cache }] }] };
}

function policyOf(cache: unknown): CachePolicy {
  return loadConfig(withCache(cache)).tenants[0]!.routes[0]!.cache!;
}

function problemsOf(cache: unknown): readonly string[] {
  try {
    loadConfig(withCache(cache));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("defaults and normalization", () => {
  it('cookies default to "bypass"; nothing is forwarded unkeyed', () => {
    expect(policyOf({})).toMatchObject({ cookies: "bypass", forwardUnkeyed: [] });
  });

  it("keeps the names, lower-cased, without the reasons", () => {
    const policy = policyOf({ cookies: "ignore", forwardUnkeyed: { "X-Request-Id": "only logged", traceparent: "tracing only" } });
    expect(policy.cookies).toBe("ignore");
    expect(policy.forwardUnkeyed).toStrictEqual(["x-request-id", "traceparent"]);
    expect(Object.isFrozen(policy.forwardUnkeyed)).toBe(true);
  });
});

describe("problems name the field", () => {
  it.each([
    ["cookies not in the enum", { cookies: "strip" }, [`${C}.cookies: expected "bypass" or "ignore", got "strip"`]],
    [
      "forwardUnkeyed as a list",
      { forwardUnkeyed: ["x-a"] },
      [`${C}.forwardUnkeyed: expected an object of header name → reason, got an array`],
    ],
    [
      "an empty reason",
      { forwardUnkeyed: { "x-a": " " } },
      [`${C}.forwardUnkeyed["x-a"]: expected a non-empty reason: why the origin's response does not depend on this header`],
    ],
    [
      "a reason that is not a string",
      { forwardUnkeyed: { "x-a": true } },
      [`${C}.forwardUnkeyed["x-a"]: expected a reason: why the origin's response does not depend on this header, got true`],
    ],
    [
      "a name with a space",
      { forwardUnkeyed: { "x a": "r" } },
      [`${C}.forwardUnkeyed["x a"]: expected a header name (RFC 9110 token characters), got "x a"`],
    ],
    [
      "a case-insensitive duplicate",
      { forwardUnkeyed: { "x-a": "r", "X-A": "r" } },
      [`${C}.forwardUnkeyed["X-A"]: duplicate header "X-A" (also "x-a")`],
    ],
    [
      "cookie",
      { forwardUnkeyed: { Cookie: "r" } },
      [`${C}.forwardUnkeyed.Cookie: Cookie is not forwarded unkeyed: use cache.cookies ("bypass" or "ignore")`],
    ],
    [
      "a header forwarded by default",
      { forwardUnkeyed: { "Accept-Language": "r" } },
      [
        `${C}.forwardUnkeyed["Accept-Language"]: header "Accept-Language" is always forwarded (see docs/security.md "Shared responses"): remove it here`,
      ],
    ],
    [
      "a hop-by-hop header",
      { forwardUnkeyed: { te: "r" } },
      [`${C}.forwardUnkeyed.te: header "te" is hop-by-hop (RFC 9110 §7.6.1) and never forwarded`],
    ],
    [
      "an override header",
      { forwardUnkeyed: { "X-Original-URL": "r" } },
      [
        `${C}.forwardUnkeyed["X-Original-URL"]: header "X-Original-URL" is removed on every route (an override header, or one Brim sets itself)`,
      ],
    ],
    [
      "an x-forwarded- header",
      { forwardUnkeyed: { "x-forwarded-user": "r" } },
      [
        `${C}.forwardUnkeyed["x-forwarded-user"]: header "x-forwarded-user" is removed on every route (an override header, or one Brim sets itself)`,
      ],
    ],
    [
      "host",
      { forwardUnkeyed: { host: "r" } },
      [`${C}.forwardUnkeyed.host: header "host" is removed on every route (an override header, or one Brim sets itself)`],
    ],
    [
      "a header that is also keyed",
      { key: { headers: ["X-Device"] }, forwardUnkeyed: { "x-device": "r" } },
      [`${C}.forwardUnkeyed["x-device"]: header "x-device" is in key.headers, so it is already forwarded (and keyed): remove it here`],
    ],
  ])("%s", (_, cache, expected) => {
    expect(problemsOf(cache)).toStrictEqual(expected);
  });

  it("every default and every override header is refused by name", () => {
    for (const name of [...SHARED_FETCH_REQUEST_HEADERS, ...OVERRIDE_REQUEST_HEADERS]) {
      expect(problemsOf({ forwardUnkeyed: { [name]: "r" } }), name).toHaveLength(1);
    }
  });
});
