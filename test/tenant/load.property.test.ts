import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfigText } from "../../src/tenant/load";
import { hostName } from "../../src/tenant/config-host";

const CREDENTIALS = new Set(["authorization", "proxy-authorization", "cookie"]);

const host = fc
  .tuple(
    fc.oneof(
      fc.mixedCase(fc.domain()),
      fc.ipV4(),
      fc.ipV6().map((ip) => `[${ip}]`),
    ),
    fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  )
  .map(([name, port]) => (port === undefined ? name : `${name}:${port}`));

const origin = fc.webUrl({ validSchemes: ["http", "https"] });

const literal = fc.stringMatching(/^[a-z0-9._~-]{1,8}$/);
const param = fc
  .tuple(fc.stringMatching(/^\w{1,8}$/), fc.constantFrom("", "{[0-9]+}", "{[a-z]{2,3}}", "{.+\\.png}"))
  .map(([name, regex]) => `:${name}${regex}`);

/** Valid patterns: literal and parameter segments (names unique), maybe a final "/*". */
const path = fc.oneof(
  { weight: 1, arbitrary: fc.constant("*") },
  {
    weight: 9,
    arbitrary: fc.tuple(fc.array(fc.oneof(literal, param), { maxLength: 4 }), fc.boolean()).map(([segments, wildcard]) => {
      let n = 0;
      const unique = segments.map((s) => (s.startsWith(":") ? s.replace(/^:\w+/, `:p${n++}`) : s));
      return `/${unique.join("/")}${wildcard ? (unique.length ? "/*" : "*") : ""}`;
    }),
  },
);

const headerName = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,16}$/).filter((name) => !CREDENTIALS.has(name.toLowerCase()));

const seconds = fc.nat({ max: 10 * 365 * 86_400 });

const cache = fc
  .record(
    {
      ttl: seconds,
      staleWhileRevalidate: seconds,
      staleIfError: seconds,
      override: fc.boolean(),
      ignoreRequestDirectives: fc.boolean(),
      ttlJitter: fc.double({ min: 0, max: 0.5, noNaN: true }),
      maxObjectBytes: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      key: fc.record(
        {
          query: fc.oneof(
            fc.constantFrom("all", "none"),
            fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
          ),
          headers: fc.uniqueArray(headerName, { maxLength: 4, selector: (h) => h.toLowerCase() }),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  )
  // `override` needs something to override with.
  .map((c) =>
    c.override && c.ttl === undefined && c.staleWhileRevalidate === undefined && c.staleIfError === undefined ? { ...c, ttl: 0 } : c,
  );

const route = fc.record(
  {
    path,
    origin,
    timeoutMs: fc.integer({ min: 1, max: 600_000 }),
    preserveHost: fc.boolean(),
    cache: fc.oneof(fc.constant(false as const), cache),
  },
  { requiredKeys: ["path"] },
);

const tenant = fc.record(
  {
    id: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,62}$/),
    hosts: fc.uniqueArray(host, { minLength: 1, maxLength: 4, selector: (h) => h.toLowerCase() }),
    origin,
    preserveHost: fc.boolean(),
    routes: fc.array(route, { minLength: 1, maxLength: 5 }),
  },
  { requiredKeys: ["id", "hosts", "origin", "routes"] },
);

/** Configs that satisfy every rule, including uniqueness across tenants. */
const validConfig = fc.uniqueArray(tenant, { minLength: 1, maxLength: 4, selector: (t) => t.id }).map((tenants) => {
  const claimed = new Set<string>();
  return {
    tenants: tenants.map((t, i) => {
      // A tenant owns a host name on every port (src/tenant/config-host.ts): `[::]` and `[::]:1`
      // in two tenants is a conflict, so uniqueness across tenants is by name without the port.
      const free = t.hosts.filter((h) => !claimed.has(hostName(h)));
      const hosts = free.length > 0 ? free : [`t${i}.fallback.test`];
      for (const h of hosts) claimed.add(hostName(h));
      return { ...t, hosts };
    }),
  };
});

type JsonPath = (string | number)[];

/** Every path into a JSON tree, the root included. */
function pathsOf(value: unknown, at: JsonPath = []): JsonPath[] {
  if (typeof value !== "object" || value === null) return [at];
  return [at, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...at, Array.isArray(value) ? Number(k) : k]))];
}

function replaceAt(root: unknown, at: JsonPath, replacement: unknown): unknown {
  if (at.length === 0) return replacement;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of at.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[at[at.length - 1]!] = replacement;
  return copy;
}

const IDENT = String.raw`[A-Za-z_$][\w$]*`;
const INDEX = String.raw`\[\d+\]|\["(?:[^"\\]|\\.)*"\]`;
/** `(root): reason` or `a.b[0]["odd key"]: reason`. */
const PROBLEM_LINE = new RegExp(String.raw`^(?:\(root\)|(?:${IDENT}|${INDEX})(?:\.${IDENT}|${INDEX})*): \S`, "s");

/** loadConfig may return or throw ConfigError with well-formed lines, nothing else. */
function expectReturnsOrConfigError(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const { problems } = error as ConfigError;
    expect(problems.length).toBeGreaterThan(0);
    for (const line of problems) expect(line).toMatch(PROBLEM_LINE);
  }
}

// Each property validates hundreds of generated configs (CPU-bound): an explicit budget for a busy machine.
describe("loadConfig properties", { timeout: 30_000 }, () => {
  it("accepts every valid config and keeps ids, hosts and route order", () => {
    fc.assert(
      fc.property(validConfig, (raw) => {
        const config = loadConfig(raw);
        expect(config.tenants.map((t) => t.id)).toStrictEqual(raw.tenants.map((t) => t.id));
        expect(config.tenants.map((t) => t.hosts)).toStrictEqual(raw.tenants.map((t) => t.hosts.map((h) => h.toLowerCase())));
        config.tenants.forEach((t, i) => {
          expect(t.routes.map((r) => r.path)).toStrictEqual(raw.tenants[i]!.routes.map((r) => r.path));
          expect(t.routes.map((r) => r.index)).toStrictEqual(t.routes.map((_, j) => j));
          for (const r of [t, ...t.routes]) expect(r.origin).toMatch(/^https?:\/\/[^/]+(\/.*[^/])?$/);
        });
        expect(Object.isFrozen(config.tenants)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("is idempotent on its own output shape: the same input loads to equal configs", () => {
    fc.assert(
      fc.property(validConfig, (raw) => {
        expect(loadConfig(structuredClone(raw))).toStrictEqual(loadConfig(raw));
      }),
      { numRuns: 50 },
    );
  });

  it("returns or throws ConfigError for any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => expectReturnsOrConfigError(() => loadConfig(raw))),
      { numRuns: 500 },
    );
  });

  it("returns or throws ConfigError when any part of a valid config is replaced", () => {
    const mutated = validConfig.chain((raw) => {
      const paths = pathsOf(raw);
      return fc.tuple(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 2 })).map(([at, v]) => replaceAt(raw, at, v));
    });
    fc.assert(
      fc.property(mutated, (raw) => expectReturnsOrConfigError(() => loadConfig(raw))),
      { numRuns: 500 },
    );
  });

  it("parseConfigText returns or throws ConfigError for any text", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => expectReturnsOrConfigError(() => parseConfigText(text)),
      ),
      { numRuns: 300 },
    );
  });
});
