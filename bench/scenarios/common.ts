/** Pieces several scenarios share. */
import type { BurstPlan, BurstStep } from "../lib/burst-plan";
import { getOnce } from "../lib/http";
import { sleep } from "../lib/procs";
import { originPath } from "../origin/url";
import type { ScenarioContext } from "./types";

/** Time for a cache write that finishes after the response (waitUntil) to land. */
export const STORE_SETTLE_MS = 300;
/** Margin added to per-request timeouts on top of the origin's latency. */
export const REQUEST_TIMEOUT_SLACK_MS = 30_000;

/** A cached, instant key for opening sockets and measuring a warm floor. */
export function warmPath(context: ScenarioContext, name = "warm"): string {
  return originPath({ profile: "fresh", latencyMs: 0, bytes: context.settings.bodyBytes, key: `${context.keyPrefix}/${name}` });
}

export function burstPlan(context: ScenarioContext, connections: number, latencyMs: number, steps: BurstStep[]): BurstPlan {
  return {
    port: context.target.port,
    host: context.target.host,
    connections,
    originUrl: context.origin.url,
    requestTimeoutMs: latencyMs + REQUEST_TIMEOUT_SLACK_MS,
    ...(context.target.costSource ? { costs: { ...context.target.costSource } } : {}),
    steps,
  };
}

/** Fetches `path` once so it is cached, and waits for the store to land. */
export async function prime(
  context: ScenarioContext,
  path: string,
  headers: Record<string, string> = {},
  host = context.target.host,
): Promise<void> {
  const reply = await getOnce(context.target.port, host, path, headers);
  if (reply.status !== 200) throw new Error(`priming ${path}: status ${reply.status}`);
  await sleep(STORE_SETTLE_MS);
}

/** Warm the cache for `path` then open sockets on it: the steps every burst plan starts with. */
export function openOn(path: string): BurstStep[] {
  return [
    { kind: "get", path },
    { kind: "sleep", ms: STORE_SETTLE_MS },
    { kind: "open", path },
  ];
}
