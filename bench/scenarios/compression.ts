/**
 * Compression (issue 5): ~100 KB of realistic JSON and HTML from the bench origin, asked for
 * with `Accept-Encoding: br`, `zstd`, `gzip` and `identity`. Bytes on the wire per coding, the
 * time of the first (compressing) miss per coding, and the proxy's CPU per 1,000 cache hits on
 * a compressed variant against identity hits. Brim negotiates on `request.cf.clientAcceptEncoding`,
 * which wrangler dev fills in from the client's real header, so the header sent here is what it sees.
 */
import { cpuMs } from "../lib/cpu";
import { getOnce, type Reply } from "../lib/http";
import { sleep } from "../lib/procs";
import { median } from "../lib/stats";
import { originPath } from "../origin/url";
import { prime, STORE_SETTLE_MS } from "./common";
import { ERRORS_METRIC, type MetricSpec, type Metrics, type Scenario, type ScenarioContext } from "./types";

const CODINGS = ["identity", "br", "zstd", "gzip"] as const;
type Coding = (typeof CODINGS)[number];
/** 100 KB over 127.0.0.1 takes milliseconds: a response not complete by then is stalled. */
const RESPONSE_DEADLINE_MS = 3_000;
/** The compressed variant whose hits are compared with identity hits. */
const HIT_CODING: Coding = "br";
const KINDS = { json: "JSON", html: "HTML" } as const;
const BYTES = "Bytes on the wire (body, as received)";
const MISS = "First (compressing) miss, JSON: ms to the last byte";
const CPU = `Cache hits on one JSON URL: identity vs ${HIT_CODING}`;

const cap = (coding: Coding) => coding[0]?.toUpperCase() + coding.slice(1);
const metrics: MetricSpec[] = [
  ...Object.entries(KINDS).flatMap(([kind, label]) =>
    CODINGS.map((coding) => ({
      key: `${kind}${cap(coding)}`,
      label: `${label} ${coding}`,
      better: "lower" as const,
      digits: 0,
      table: BYTES,
      relativeTo: `${kind}Identity`,
      optional: coding === "zstd",
    })),
  ),
  { key: "failed", label: "responses empty, stalled (> 3 s) or not 200", better: "lower", digits: 0, table: BYTES },
  ...CODINGS.map((coding) => ({
    key: `miss${cap(coding)}`,
    label: coding,
    better: "lower" as const,
    digits: 1,
    table: MISS,
    relativeTo: "missIdentity",
    optional: coding === "zstd",
  })),
  { key: "cpuIdentity", label: "CPU ms / 1k identity hits", better: "lower", table: CPU, relativeTo: "cpuIdentity" },
  { key: `cpu${cap(HIT_CODING)}`, label: `CPU ms / 1k ${HIT_CODING} hits`, better: "lower", table: CPU, relativeTo: "cpuIdentity" },
  { key: "rpsIdentity", label: "identity req/s", better: "higher", digits: 0, table: CPU, relativeTo: "rpsIdentity" },
  { key: `rps${cap(HIT_CODING)}`, label: `${HIT_CODING} req/s`, better: "higher", digits: 0, table: CPU, relativeTo: "rpsIdentity" },
  { ...ERRORS_METRIC, table: CPU },
];

export const compression: Scenario = {
  id: "compression",
  title: "Compression",
  describe: (s) =>
    `~${s.compression.bodyBytes / 1000} KB of generated JSON (a product catalogue) and HTML (a listing page), \`public, max-age=60\`, origin instant, ` +
    "asked for with `Accept-Encoding: br`, `zstd`, `gzip` or `identity`. Bytes: a cache hit's body as received. " +
    `First miss: median over ${s.compression.misses} fresh URL${s.compression.misses === 1 ? "" : "s"} per coding, new connection each. ` +
    `Hits: ${s.compression.connections} keep-alive connections for ${s.compression.durationMs / 1000} s on one cached URL per coding; CPU is the proxy's own (from /proc). ` +
    "Brim answers a miss with fast compression (Brotli 4, gzip 6) and caches it, then recompresses the stored variant in the background (Brotli 11, gzip 9; two-pass compression, docs/compression.md), so hits get the smaller bytes; the sequential first misses here also wait for the previous miss's background pass, which holds the one isolate. Brim does not produce zstd on these routes (opt-in per route), so its zstd column is —; nginx compresses every response, hits included, at Brotli 4 / gzip 6, and has no zstd (—). " +
    "Brim negotiates on `request.cf.clientAcceptEncoding`, which wrangler dev fills from the client's real header.",
  includeReference: false,
  targets: ["brim", "nginx"],
  headline: "jsonBr",
  headlineLabel: "JSON bytes with br, ×ratio to identity",
  metrics,
  async run(context) {
    const { bodyBytes, misses, connections, durationMs } = context.settings.compression;
    const path = (key: string) => originPath({ profile: "fresh", latencyMs: 0, bytes: bodyBytes, key: `${context.keyPrefix}/${key}` });
    let failed = 0;
    /** A complete, non-empty 200 in `coding`; null when it was not that coding (nginx has no zstd); a failure counted otherwise. */
    const get = async (p: string, coding: Coding): Promise<Reply | null> => {
      const reply = await getOnce(context.target.port, context.target.host, p, { "accept-encoding": coding }, RESPONSE_DEADLINE_MS).catch(
        () => null,
      );
      if (!reply || reply.status !== 200 || reply.bytes === 0) failed++;
      else if (reply.encoding === coding) return reply;
      return null;
    };
    const out: Metrics = {};
    // Bytes: a first request (the miss), then the hit whose body is counted.
    for (const kind of Object.keys(KINDS)) {
      for (const coding of CODINGS) {
        const p = path(`bytes-${coding}.${kind}`);
        await get(p, coding);
        await sleep(STORE_SETTLE_MS);
        out[`${kind}${cap(coding)}`] = (await get(p, coding))?.bytes ?? Number.NaN;
      }
    }
    // First misses, codings interleaved so drift hits them alike.
    const times = new Map<Coding, number[]>(CODINGS.map((coding) => [coding, []]));
    for (let i = 0; i < misses; i++) {
      for (const coding of CODINGS) {
        const reply = await get(path(`miss-${i}-${coding}.json`), coding);
        if (reply) times.get(coding)?.push(reply.ms);
      }
    }
    for (const coding of CODINGS) out[`miss${cap(coding)}`] = median(times.get(coding) ?? []);
    // Hits: CPU per 1,000 on a cached identity and a cached compressed variant of one URL.
    const hot = path("hot.json");
    let errors = 0;
    for (const coding of ["identity", HIT_CODING] as const) {
      const headers = { "accept-encoding": coding };
      await prime(context, hot, headers);
      const hit = await hitRun(context, hot, headers, connections, durationMs);
      out[`cpu${cap(coding)}`] = hit.cpuPer1k;
      out[`rps${cap(coding)}`] = hit.rps;
      errors += hit.errors;
    }
    return { ...out, failed, errors };
  },
};

async function hitRun(context: ScenarioContext, path: string, headers: Record<string, string>, connections: number, durationMs: number) {
  const pids = context.target.cpuPids();
  const before = cpuMs(pids);
  const result = await context.load.run({
    port: context.target.port,
    host: context.target.host,
    connections,
    durationMs,
    paths: [path],
    headers,
  });
  const cpu = cpuMs(pids) - before;
  return {
    rps: result.rps,
    cpuPer1k: result.requests > 0 ? (cpu / result.requests) * 1000 : Number.NaN,
    errors: result.errors + result.badStatus,
  };
}
