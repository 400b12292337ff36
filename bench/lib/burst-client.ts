/**
 * The burst client, run as its own process: `tsx bench/lib/burst-client.ts '<BurstPlan JSON>'`.
 * It opens N keep-alive sockets first, then writes all N requests in one synchronous loop, so a
 * burst is really concurrent, and times each request from write to last byte. Prints one
 * BurstReport JSON line.
 */
import { Agent, request } from "node:http";
import type { BurstOutcome, BurstPlan, BurstReport, BurstStep, Sample } from "./burst-plan";

const plan = JSON.parse(process.argv[2] ?? "{}") as BurstPlan;
const agent = new Agent({ keepAlive: true, maxSockets: plan.connections, maxFreeSockets: plan.connections });

function get(path: string): Promise<Sample> {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = request({ host: "127.0.0.1", port: plan.port, path, agent, headers: { ...plan.headers, host: plan.host } }, (res) => {
      res.on("data", () => undefined);
      res.on("end", () => {
        const cache = res.headers["cache-status"] ?? res.headers["x-cache"] ?? "";
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, cacheStatus: String(cache) });
      });
      res.on("error", (error) => resolve({ status: 0, ms: performance.now() - started, cacheStatus: "", error: error.message }));
    });
    req.setTimeout(plan.requestTimeoutMs, () => req.destroy(new Error("timeout")));
    req.on("error", (error) => resolve({ status: 0, ms: performance.now() - started, cacheStatus: "", error: error.message }));
    req.end();
  });
}

function freeSockets(): number {
  return Object.values(agent.freeSockets).reduce((sum, list) => sum + (list?.length ?? 0), 0);
}

async function originCount(path: string): Promise<{ requests: number; notModified: number }> {
  const res = await fetch(`${plan.originUrl}/_control/count?path=${encodeURIComponent(path)}`);
  return (await res.json()) as { requests: number; notModified: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function burst(step: Extract<BurstStep, { kind: "burst" }>): Promise<BurstOutcome> {
  const before = await originCount(step.path);
  const preopened = freeSockets();
  const pending: Promise<Sample>[] = [];
  for (let i = 0; i < plan.connections; i++) pending.push(get(step.path));
  const samples = await Promise.all(pending);
  await sleep(step.settleMs);
  const after = await originCount(step.path);
  return {
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
      report.gets.push(...(await Promise.all(Array.from({ length: plan.connections }, () => get(step.path)))));
      break;
    case "burst":
      report.bursts.push(await burst(step));
      break;
  }
}
agent.destroy();
console.log(JSON.stringify(report));
