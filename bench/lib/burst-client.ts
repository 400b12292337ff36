/**
 * The burst client, run as its own process: `tsx bench/lib/burst-client.ts '<BurstPlan JSON>'`.
 * It opens N keep-alive sockets first, then writes all N requests in one synchronous loop, so a
 * burst is really concurrent, and times each request from write to last byte. Prints one
 * BurstReport JSON line.
 */
import { Agent, request } from "node:http";
import type { BurstOutcome, BurstPlan, BurstReport, BurstStep, Sample } from "./burst-plan";
import { type CostCounts, readBrimCosts } from "./costs";

const plan = JSON.parse(process.argv[2] ?? "{}") as BurstPlan;
const ports = plan.ports?.length ? plan.ports : [plan.port];
/** One agent per edge, each with room for its share of the connections. */
const perEdge = Math.ceil(plan.connections / ports.length);
const agents = ports.map(() => new Agent({ keepAlive: true, maxSockets: perEdge, maxFreeSockets: perEdge }));
/** A request's background work (cache writes, revalidations) counts once it finishes: let it. */
const COSTS_SETTLE_MS = 300;

/** One request; `i` picks the edge (request i of a burst goes to edge i mod edges). */
function get(path: string, i = 0): Promise<Sample> {
  const edge = i % ports.length;
  return new Promise((resolve) => {
    const started = performance.now();
    const failed = (error: Error) => resolve({ status: 0, ms: performance.now() - started, cacheStatus: "", edge, error: error.message });
    const options = { host: "127.0.0.1", port: ports[edge], path, agent: agents[edge], headers: { ...plan.headers, host: plan.host } };
    const req = request(options, (res) => {
      res.on("data", () => undefined);
      res.on("end", () => {
        const cache = res.headers["cache-status"] ?? res.headers["x-cache"] ?? "";
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, cacheStatus: String(cache), edge });
      });
      res.on("error", failed);
    });
    req.setTimeout(plan.requestTimeoutMs, () => req.destroy(new Error("timeout")));
    req.on("error", failed);
    req.end();
  });
}

function freeSockets(): number {
  return agents.reduce((sum, agent) => sum + Object.values(agent.freeSockets).reduce((n, list) => n + (list?.length ?? 0), 0), 0);
}

function readCosts(): Promise<CostCounts | undefined> {
  return plan.costs ? readBrimCosts(plan.costs.host, plan.costs.adminToken) : Promise.resolve(undefined);
}

async function originCount(path: string): Promise<{ requests: number; notModified: number }> {
  const res = await fetch(`${plan.originUrl}/_control/count?path=${encodeURIComponent(path)}`);
  return (await res.json()) as { requests: number; notModified: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function burst(step: Extract<BurstStep, { kind: "burst" }>): Promise<BurstOutcome> {
  const before = await originCount(step.path);
  const costsBefore = await readCosts();
  const preopened = freeSockets();
  const pending: Promise<Sample>[] = [];
  for (let i = 0; i < plan.connections; i++) pending.push(get(step.path, i));
  const samples = await Promise.all(pending);
  await sleep(plan.costs ? Math.max(step.settleMs, COSTS_SETTLE_MS) : step.settleMs);
  const after = await originCount(step.path);
  const costsAfter = await readCosts();
  return {
    ...(costsBefore && costsAfter ? { costsBefore, costsAfter } : {}),
    label: step.label,
    path: step.path,
    preopened,
    samples,
    originRequests: after.requests - before.requests,
    originNotModified: after.notModified - before.notModified,
  };
}

const report: BurstReport = { gets: [], bursts: [] };
let mark = performance.now();
for (const step of plan.steps) {
  switch (step.kind) {
    case "get":
      report.gets.push(await get(step.path));
      if (step.mark) mark = performance.now();
      break;
    case "sleep":
      await sleep(step.sinceMark ? mark + step.ms - performance.now() : step.ms);
      break;
    case "open":
      report.gets.push(...(await Promise.all(Array.from({ length: plan.connections }, (_, i) => get(step.path, i)))));
      break;
    case "burst":
      report.bursts.push(await burst(step));
      break;
  }
}
for (const agent of agents) agent.destroy();
console.log(JSON.stringify(report));
