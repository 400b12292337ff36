/**
 * Purge at scale (issue 16): N cached URLs purged in one `POST /__brim/purge`, then a purge of
 * 10,000 tags (a few cached entries carry some of them). Measured: the admin request's latency,
 * the Durable Object calls it made (Brim reports them in the answer: admin requests are not in
 * `/__brim/stats`), the time from the answer until sampled purged URLs miss at the edge, and
 * whether an unpurged entry still hits. Brim only: the peers have no purge API.
 */
import { getOnce } from "../lib/http";
import { sleep } from "../lib/procs";
import { originPath } from "../origin/url";
import { STORE_SETTLE_MS } from "./common";
import { ERRORS_METRIC, type Metrics, type Scenario, type ScenarioContext } from "./types";

/** Priming requests in flight at once. */
const PRIME_CONCURRENCY = 16;
/** Bound on waiting for the purged entries to miss (PURGE_MAX_STALE_MS is 3 s). */
const MISS_DEADLINE_MS = 10_000;
const MISS_POLL_MS = 50;
const PURGE_DEADLINE_MS = 30_000;

interface PurgeAnswer {
  readonly ok: boolean;
  readonly objectCalls?: { readonly purge: number; readonly coalescer: number };
  readonly log?: { readonly marks: number; readonly folded: number };
}

export const purge: Scenario = {
  id: "purge",
  title: "Purge at scale",
  describe: (s) =>
    `${s.purge.urls.toLocaleString("en-US")} cached URLs purged in one \`POST /__brim/purge\`, then ` +
    `${s.purge.tags.toLocaleString("en-US")} tags in one (${s.purge.tagged} cached entries carry one of them each). ` +
    `"Until miss" = from the answer to the start of the first round of GETs in which ${s.purge.checks} sampled purged URLs (every tagged entry) all miss ` +
    "(0: at once; the bound is 3 s); an unpurged URL and an entry with an unrelated tag must still hit. " +
    "Object calls are from the purge answer (PurgeLog write + relay refresh; Coalescer calls only for purges of ≤ 8 URLs).",
  includeReference: false,
  targets: ["brim"],
  headline: "urlMs",
  headlineLabel: "ms for one URL purge request (1,000 URLs in full and quick runs)",
  metrics: [
    { key: "urlMs", label: "URL purge: request ms", better: "lower", digits: 0 },
    { key: "urlObjectCalls", label: "URL purge: Durable Object calls", better: "lower", digits: 0 },
    { key: "urlMissMs", label: "URL purge: ms until miss", better: "lower", digits: 0 },
    { key: "tagMs", label: "tag purge: request ms", better: "lower", digits: 0 },
    { key: "tagObjectCalls", label: "tag purge: Durable Object calls", better: "lower", digits: 0 },
    { key: "tagMissMs", label: "tag purge: ms until miss", better: "lower", digits: 0 },
    { key: "folded", label: "marks folded into purge-all (0 is right)", better: "lower", digits: 0 },
    ERRORS_METRIC,
  ],
  async run(context) {
    const { urls: n, tags: tagCount, tagged, checks } = context.settings.purge;
    const path = (name: string) =>
      originPath({ profile: "fresh", latencyMs: 0, bytes: context.settings.bodyBytes, key: `${context.keyPrefix}/${name}` });
    const urls = Array.from({ length: n }, (_, i) => path(`u/${i}`));
    const tags = Array.from({ length: tagCount }, (_, i) => `${context.keyPrefix}-t${i}`);
    // Tagged entries: spread over the tag list; a distinct path each (the tag rides in the query).
    const taggedPaths = Array.from({ length: tagged }, (_, i) => `${path(`tagged/${i}`)}?tag=${tags[Math.floor((i * tagCount) / tagged)]}`);
    const kept = path("kept");
    const keptTagged = `${path("kept-tagged")}?tag=${context.keyPrefix}-unrelated`;
    let errors = 0;

    errors += await primeAll(context, [...urls, ...taggedPaths, kept, keptTagged]);
    await sleep(STORE_SETTLE_MS);

    const step = Math.max(1, Math.floor(n / checks));
    const sample = urls.filter((_, i) => i % step === 0).slice(0, checks);
    const url = await purgeOnce(context, { urls });
    const urlMissMs = await untilMissed(context, sample);
    const tag = await purgeOnce(context, { tags });
    const tagMissMs = await untilMissed(context, taggedPaths);
    for (const still of [kept, keptTagged])
      if (!(await getOnce(context.target.port, context.target.host, still)).cacheStatus.includes("hit")) errors++;

    const metrics: Metrics = {
      urlMs: url.ms,
      urlObjectCalls: calls(url.answer),
      urlMissMs,
      tagMs: tag.ms,
      tagObjectCalls: calls(tag.answer),
      tagMissMs,
      folded: (url.answer.log?.folded ?? Number.NaN) + (tag.answer.log?.folded ?? Number.NaN),
      marks: tag.answer.log?.marks ?? Number.NaN,
      errors: errors + (Number.isFinite(urlMissMs) ? 0 : 1) + (Number.isFinite(tagMissMs) ? 0 : 1),
    };
    return metrics;
  },
};

function calls(answer: PurgeAnswer): number {
  return answer.objectCalls ? answer.objectCalls.purge + answer.objectCalls.coalescer : Number.NaN;
}

/** GETs every path once (bounded concurrency); the number that did not answer 200. */
async function primeAll(context: ScenarioContext, paths: readonly string[]): Promise<number> {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++]!;
      const reply = await getOnce(context.target.port, context.target.host, path).catch(() => null);
      if (reply?.status !== 200) failed++;
    }
  };
  await Promise.all(Array.from({ length: PRIME_CONCURRENCY }, worker));
  return failed;
}

async function purgeOnce(context: ScenarioContext, body: unknown): Promise<{ ms: number; answer: PurgeAnswer }> {
  const adminToken = context.target.costSource?.adminToken;
  if (!adminToken) throw new Error("purge: the target has no admin token");
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${context.target.port}/__brim/purge`, {
    method: "POST",
    headers: { host: context.target.host, authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(PURGE_DEADLINE_MS),
  });
  const text = await res.text();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`POST /__brim/purge: status ${res.status}: ${text.slice(0, 300)}`);
  return { ms, answer: JSON.parse(text) as PurgeAnswer };
}

/**
 * Ms from now to the start of the first round of GETs in which every path missed (0: the first
 * round, right after the answer), so the miss's own origin round trip is not counted. Each path
 * is asked until its first miss only (a miss refills it). NaN past the deadline.
 */
async function untilMissed(context: ScenarioContext, paths: readonly string[]): Promise<number> {
  const started = performance.now();
  let pending = [...paths];
  for (;;) {
    const round = performance.now() - started;
    const replies = await Promise.all(pending.map((p) => getOnce(context.target.port, context.target.host, p)));
    pending = pending.filter((_, i) => replies[i]!.cacheStatus.includes("hit"));
    if (pending.length === 0) return round;
    if (performance.now() - started > MISS_DEADLINE_MS) return Number.NaN;
    await sleep(MISS_POLL_MS);
  }
}
