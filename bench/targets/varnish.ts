/**
 * Varnish (Debian) with stock behaviour: default grace (10 s, or the origin's
 * stale-while-revalidate), request coalescing through the waiting list. Run in the foreground
 * (`-F`) with its own work directory and VCL under the bench's temporary directory.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processTree } from "../lib/cpu";
import { freePort, logTail, startService, waitForHttp } from "../lib/procs";
import { versionLine } from "../lib/versions";
import { type TargetDef, TargetUnavailable } from "./types";

const VARNISHD = "/usr/sbin/varnishd";
const READY_TIMEOUT_MS = 30_000;
const STORAGE = "malloc,256m";

export const varnish: TargetDef = {
  id: "varnish",
  label: "Varnish",
  packages: ["varnish"],
  binary: VARNISHD,
  async start(context) {
    if (!existsSync(VARNISHD)) throw new TargetUnavailable("varnish is not installed");
    const dir = join(context.tmp, "varnish");
    mkdirSync(dir, { recursive: true });
    const port = await freePort();
    const admin = await freePort();
    const vcl = join(dir, "bench.vcl");
    writeFileSync(vcl, config(context.origin.port));
    // `-j none`: no privilege separation, so the work directory under our 0700 temp dir is usable as root.
    const args = [
      "-F",
      "-j",
      "none",
      "-n",
      join(dir, "work"),
      "-a",
      `127.0.0.1:${port}`,
      "-T",
      `127.0.0.1:${admin}`,
      "-f",
      vcl,
      "-s",
      STORAGE,
    ];
    const service = startService("varnish", VARNISHD, args, join(dir, "varnishd.log"));
    const host = `127.0.0.1:${port}`;
    if (!(await waitForHttp(port, "/", host, READY_TIMEOUT_MS, service))) {
      await service.stop();
      throw new Error(`varnishd did not start:\n${logTail(service)}`);
    }
    return {
      id: "varnish",
      label: "Varnish",
      reference: false,
      worker: false,
      port,
      host,
      version: versionLine(VARNISHD, ["-V"], /varnish-/) ?? "varnishd",
      notes: [`stock VCL (default grace, waiting list), one backend, -s ${STORAGE}, -j none`],
      cpuPids: () => processTree(service.pid),
      stop: () => service.stop(),
    };
  },
};

function config(originPort: number): string {
  return `vcl 4.1;
# Written by bench/targets/varnish.ts for one bench run. Only Cache-Status is added; the rest is builtin VCL.
backend origin {
  .host = "127.0.0.1";
  .port = "${originPort}";
  .first_byte_timeout = 60s;
}
sub vcl_deliver {
  if (obj.hits > 0) {
    set resp.http.Cache-Status = "varnish; hit";
  } else {
    set resp.http.Cache-Status = "varnish; fwd=miss";
  }
}
`;
}
