/**
 * autocannon in its own process: `tsx bench/lib/load/autocannon-child.ts <LoadSpec JSON file>`.
 * Paths (and the rotating header's values) are cycled in order across all connections. Prints
 * one LoadResult JSON line.
 */
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import type { LoadResult, LoadSpec } from "./types";
import { LOAD_REQUEST_TIMEOUT_S } from "./types";

const spec = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as LoadSpec;
const rotate = spec.rotateHeader;
let next = 0;
const result = await autocannon({
  url: `http://127.0.0.1:${spec.port}`,
  connections: spec.connections,
  duration: Math.max(1, Math.round(spec.durationMs / 1000)),
  timeout: LOAD_REQUEST_TIMEOUT_S,
  headers: { ...spec.headers, host: spec.host },
  requests: [
    {
      setupRequest: (request) => {
        const i = next++;
        const path = spec.paths[i % spec.paths.length] ?? "/";
        if (!rotate) return { ...request, path };
        return { ...request, path, headers: { ...request.headers, [rotate.name]: rotate.values[i % rotate.values.length] ?? "" } };
      },
    },
  ],
});
const durationMs = result.duration * 1000;
const report: LoadResult = {
  tool: "autocannon",
  requests: result.requests.total,
  durationMs,
  rps: result.requests.total / result.duration,
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  badStatus: result.non2xx,
  errors: result.errors,
};
console.log(JSON.stringify(report));
