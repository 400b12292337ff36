/**
 * wrk (Debian's package) as the load tool: C and epoll, so on a 2-core machine it leaves more
 * CPU to the proxy than a Node client would. One thread; a Lua script cycles the paths and
 * prints the summary as one JSON line.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { lastJsonLine, runChild } from "../procs";
import { versionLine } from "../versions";
import { LOAD_KILL_SLACK_MS, LOAD_REQUEST_TIMEOUT_S, type LoadResult, type LoadSpec, type LoadTool } from "./types";

const THREADS = 1;

interface WrkSummary {
  requests: number;
  duration_us: number;
  p50_us: number;
  p99_us: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
}

const DONE = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout))
end
`;

/** A Lua `request` cycling paths and/or one header's values; empty (wrk's pre-built request) when neither changes. */
function requestScript(spec: LoadSpec): string {
  const rotate = spec.rotateHeader;
  if (spec.paths.length <= 1 && !rotate) return "";
  const list = (values: readonly string[]) => values.map((value) => JSON.stringify(value)).join(",\n");
  const lines = [`local paths = {\n${list(spec.paths.length ? spec.paths : ["/"])}\n}`, "local i = 0"];
  if (rotate) lines.push(`local values = {\n${list(rotate.values)}\n}`);
  lines.push("request = function()", "  i = i + 1", "  local path = paths[((i - 1) % #paths) + 1]");
  if (rotate) {
    lines.push(
      "  local headers = {}",
      "  for name, value in pairs(wrk.headers) do headers[name] = value end",
      `  headers[${JSON.stringify(rotate.name)}] = values[((i - 1) % #values) + 1]`,
      "  return wrk.format(nil, path, headers)",
    );
  } else {
    lines.push("  return wrk.format(nil, path)");
  }
  lines.push("end", "");
  return lines.join("\n");
}

/** "debian/4.1.0-3+b2", or null when wrk is not installed. */
export function wrkVersion(): string | null {
  // wrk prints "wrk <version> [epoll] Copyright ..." and its usage, then exits 1.
  const line = versionLine("wrk", ["--version"], /^wrk \S+ \[/);
  return line ? (line.split(" ")[1] ?? null) : null;
}

export function wrkTool(version: string, tmp: string): LoadTool {
  let scripts = 0;
  return {
    name: "wrk",
    version,
    async run(spec: LoadSpec): Promise<LoadResult> {
      const script = join(tmp, `wrk-${++scripts}.lua`);
      writeFileSync(script, requestScript(spec) + DONE);
      // wrk sends Host from the URL unless one is given (its wrk.init fills in only a missing "Host").
      const host = spec.host === `127.0.0.1:${spec.port}` ? {} : { Host: spec.host };
      const headers = Object.entries({ ...host, ...spec.headers }).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
      const seconds = Math.max(1, Math.round(spec.durationMs / 1000));
      const url = `http://127.0.0.1:${spec.port}${spec.paths[0] ?? "/"}`;
      const args = [
        "-t",
        String(THREADS),
        "-c",
        String(spec.connections),
        "-d",
        `${seconds}s`,
        "--timeout",
        `${LOAD_REQUEST_TIMEOUT_S}s`,
        "-s",
        script,
        ...headers,
        url,
      ];
      const run = await runChild("wrk", args, seconds * 1000 + LOAD_KILL_SLACK_MS);
      const summary = lastJsonLine(run.stdout) as WrkSummary | null;
      if (!summary) throw new Error(`wrk failed (exit ${run.code}${run.timedOut ? ", timed out" : ""}): ${run.stderr.slice(-500)}`);
      const durationMs = summary.duration_us / 1000;
      return {
        tool: "wrk",
        requests: summary.requests,
        durationMs,
        rps: summary.requests / (durationMs / 1000),
        p50Ms: summary.p50_us / 1000,
        p99Ms: summary.p99_us / 1000,
        badStatus: summary.status,
        errors: summary.connect + summary.read + summary.write + summary.timeout,
      };
    },
  };
}
