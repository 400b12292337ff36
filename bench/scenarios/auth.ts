/**
 * Auth (issue 4): what JWT verification adds per request on cache hits. Brim's auth tenant
 * (one inline ES256 key, issuer and audience set) has a route with `auth: "required"` and one
 * without; the origin sends `public, max-age=60`, so every measured request is a cache hit and
 * the difference is auth alone: (a) the route without auth, (b) one valid token repeated (a
 * verified-token cache hit: a SHA-256 and a lookup), (c) a fresh token every request, cycling
 * through more pre-signed tokens than the verified-token cache holds, so each is verified.
 */
import { TOKEN_CACHE_MAX_ENTRIES } from "../../src/constants";
import { BENCH_AUDIENCE, benchKeys } from "../lib/auth-keys";
import { cpuMs } from "../lib/cpu";
import { getOnce } from "../lib/http";
import { median } from "../lib/stats";
import type { LoadSpec } from "../lib/load/types";
import { originPath } from "../origin/url";
import { AUTH_KEY_SEGMENT, brimAuthHost } from "../targets/brim-config";
import { prime } from "./common";
import { ERRORS_METRIC, type MetricSpec, type Scenario, type ScenarioContext } from "./types";

/** Signing is async WebCrypto: this many at a time. */
const SIGN_BATCH = 500;
const CPU_TABLE = "CPU ms / 1k req (both workerd processes: wrangler's proxy and Brim)";
const RUNS = { a: "(a) no auth", b: "(b) same token", c: "(c) fresh token" } as const;
type Run = keyof typeof RUNS;

const table = (title: string, suffix: string, better: MetricSpec["better"], digits: number): MetricSpec[] =>
  (Object.keys(RUNS) as Run[]).map((run) => ({
    key: `${run}${suffix}`,
    label: RUNS[run],
    better,
    digits,
    table: title,
    relativeTo: `a${suffix}`,
  }));

export const auth: Scenario = {
  id: "auth",
  title: "Auth",
  describe: (s) =>
    `Brim only. ${s.auth.connections} keep-alive connections for ${s.auth.durationMs / 1000} s per run (${s.auth.slices} slice${s.auth.slices === 1 ? "" : "s"} each, interleaved in rotating order), on one cached URL (${s.bodyBytes} B, \`public, max-age=60\`) ` +
    `of Brim's auth tenant (inline ES256 key, \`iss\` and \`aud\` checked, no revocation list): (a) a route without auth, ` +
    `(b) a route with \`auth: "required"\` and one valid token repeated (verified-token cache hit), ` +
    `(c) the same route with a new token per request: ${s.auth.tokens.toLocaleString("en-US")} pre-signed tokens, a disjoint ${Math.floor(s.auth.tokens / s.auth.slices).toLocaleString("en-US")} per slice, ` +
    `so none is in the ${TOKEN_CACHE_MAX_ENTRIES.toLocaleString("en-US")}-entry verified-token cache unless a slice runs out and cycles (counted below)` +
    `${s.auth.warmupMs ? `, after a ${s.auth.warmupMs / 1000} s warm-up on (a)` : ""}. ` +
    "The µs columns are the CPU auth adds per request (difference of the per-1k figures).",
  includeReference: false,
  targets: ["brim"],
  headline: "cCpu",
  headlineLabel: "CPU ms / 1k req with a fresh token, ×ratio to no auth",
  metrics: [
    ...table("req/s", "Rps", "higher", 0),
    ...table("p50 ms", "P50", "lower", 2),
    ...table(CPU_TABLE, "Cpu", "lower", 0),
    { key: "bExtraUs", label: "(b) − (a): µs CPU / req", better: "none", digits: 0, table: CPU_TABLE },
    { key: "cExtraUs", label: "(c) − (a): µs CPU / req", better: "none", digits: 0, table: CPU_TABLE },
    { key: "cReused", label: "(c) requests that reused a token", better: "lower", digits: 0, table: "req/s" },
    { ...ERRORS_METRIC, table: "req/s" },
  ],
  async run(context) {
    const { connections, durationMs, slices, warmupMs, tokens: count } = context.settings.auth;
    const host = brimAuthHost(context.target.port);
    const bytes = context.settings.bodyBytes;
    const open = originPath({ profile: "fresh", latencyMs: 0, bytes, key: `${context.keyPrefix}/open` });
    const guarded = originPath({ profile: "fresh", latencyMs: 0, bytes, key: `${AUTH_KEY_SEGMENT}/${context.keyPrefix}/guarded` });
    const keys = await benchKeys();
    const repeated = `Bearer ${await keys.sign("bench-user")}`;
    const fresh = await signMany(count, (i) => keys.sign(`user-${i}`));
    // The route really is guarded, and both URLs are cached before anything is measured.
    const refused = await getOnce(context.target.port, host, guarded);
    if (refused.status !== 401)
      throw new Error(`auth route without a token answered ${refused.status}, expected 401 (audience ${BENCH_AUDIENCE})`);
    await prime(context, open, {}, host);
    await prime(context, guarded, { authorization: repeated }, host);

    const sliceMs = durationMs / slices;
    const spec = { port: context.target.port, host, connections, durationMs: sliceMs };
    if (warmupMs > 0) await context.load.run({ ...spec, durationMs: warmupMs, paths: [open] });
    const share = Math.floor(fresh.length / slices);
    const specs: Record<Run, (slice: number) => LoadSpec> = {
      a: () => ({ ...spec, paths: [open] }),
      b: () => ({ ...spec, paths: [guarded], headers: { Authorization: repeated } }),
      c: (slice) => ({
        ...spec,
        paths: [guarded],
        rotateHeader: { name: "Authorization", values: fresh.slice(slice * share, (slice + 1) * share) },
      }),
    };
    const totals = { a: emptyTotal(), b: emptyTotal(), c: emptyTotal() };
    let reused = 0;
    for (let slice = 0; slice < slices; slice++) {
      for (const run of rotate(["a", "b", "c"] as const, slice)) {
        const result = await measure(context, specs[run](slice));
        add(totals[run], result);
        if (run === "c") reused += Math.max(0, result.requests - share);
      }
    }
    const [a, b, c] = [summary(totals.a), summary(totals.b), summary(totals.c)];
    return {
      aRps: a.rps,
      bRps: b.rps,
      cRps: c.rps,
      aP50: a.p50,
      bP50: b.p50,
      cP50: c.p50,
      aCpu: a.cpuPer1k,
      bCpu: b.cpuPer1k,
      cCpu: c.cpuPer1k,
      // ms per 1,000 requests is µs per request.
      bExtraUs: b.cpuPer1k - a.cpuPer1k,
      cExtraUs: c.cpuPer1k - a.cpuPer1k,
      errors: a.errors + b.errors + c.errors,
      cReused: reused,
      cRequests: c.requests,
    };
  },
};

interface Total {
  requests: number;
  ms: number;
  cpuMs: number;
  errors: number;
  p50s: number[];
}
const emptyTotal = (): Total => ({ requests: 0, ms: 0, cpuMs: 0, errors: 0, p50s: [] });

function add(total: Total, one: Awaited<ReturnType<typeof measure>>): void {
  total.requests += one.requests;
  total.ms += one.durationMs;
  total.cpuMs += one.cpuMs;
  total.errors += one.errors;
  total.p50s.push(one.p50);
}

function summary(total: Total) {
  return {
    rps: total.ms > 0 ? total.requests / (total.ms / 1000) : Number.NaN,
    p50: median(total.p50s),
    cpuPer1k: total.requests > 0 ? (total.cpuMs / total.requests) * 1000 : Number.NaN,
    errors: total.errors,
    requests: total.requests,
  };
}

function rotate<T>(list: readonly T[], by: number): T[] {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

async function signMany(count: number, sign: (i: number) => Promise<string>): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i += SIGN_BATCH) {
    const batch = await Promise.all(Array.from({ length: Math.min(SIGN_BATCH, count - i) }, (_, j) => sign(i + j)));
    out.push(...batch.map((token) => `Bearer ${token}`));
  }
  return out;
}

async function measure(context: ScenarioContext, spec: LoadSpec) {
  const pids = context.target.cpuPids();
  const before = cpuMs(pids);
  const result = await context.load.run(spec);
  const cpu = cpuMs(pids) - before;
  return {
    requests: result.requests,
    durationMs: result.durationMs,
    cpuMs: cpu,
    p50: result.p50Ms,
    errors: result.errors + result.badStatus,
  };
}
