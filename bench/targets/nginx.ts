/**
 * nginx (Debian) with proxy_cache, as its own process (`daemon off`) with a config written to
 * a temporary directory. Cache settings are the ones a careful operator turns on for this job;
 * everything else is nginx's default (notably proxy_cache_lock_timeout 5 s).
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processTree } from "../lib/cpu";
import { versionLine } from "../lib/versions";
import { freePort, logTail, startService, waitForHttp } from "../lib/procs";
import { type TargetDef, TargetUnavailable } from "./types";

const NGINX = "/usr/sbin/nginx";
const BROTLI_MODULE = "/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so";
const READY_TIMEOUT_MS = 15_000;

export const nginx: TargetDef = {
  id: "nginx",
  label: "nginx proxy_cache",
  packages: ["nginx", "libnginx-mod-http-brotli-filter"],
  binary: NGINX,
  async start(context) {
    if (!existsSync(NGINX)) throw new TargetUnavailable("nginx is not installed");
    const dir = join(context.tmp, "nginx");
    mkdirSync(dir, { recursive: true });
    const port = await freePort();
    const brotli = existsSync(BROTLI_MODULE);
    const conf = join(dir, "nginx.conf");
    writeFileSync(conf, config(dir, port, context.origin.port, brotli));
    const service = startService("nginx", NGINX, ["-p", `${dir}/`, "-e", join(dir, "error.log"), "-c", conf], join(dir, "stdout.log"));
    const host = `127.0.0.1:${port}`;
    if (!(await waitForHttp(port, "/", host, READY_TIMEOUT_MS, service))) {
      await service.stop();
      throw new Error(`nginx did not start:\n${logTail(service)}`);
    }
    return {
      id: "nginx",
      label: "nginx proxy_cache",
      reference: false,
      worker: false,
      port,
      host,
      version: versionLine(NGINX, ["-v"], /nginx version/)?.replace("nginx version: ", "") ?? "nginx",
      notes: [
        "proxy_cache_lock on, proxy_cache_use_stale updating error timeout http_500..504, proxy_cache_background_update on, proxy_cache_revalidate on; lock timeout left at its default 5 s",
        `worker_processes auto, upstream keepalive 64, access_log off${brotli ? ", brotli filter module loaded" : ", brotli module not available"}`,
        `compression (Compression scenario; levels set to Brim's): gzip 6${brotli ? ", brotli 4" : ""}, for text/html, text/plain, application/json; applied to every response, hits included, and no zstd`,
      ],
      cpuPids: () => processTree(service.pid),
      stop: () => service.stop(),
    };
  },
};

function config(dir: string, port: number, originPort: number, brotli: boolean): string {
  const root = process.getuid?.() === 0;
  return `# Written by bench/targets/nginx.ts for one bench run.
${brotli ? `load_module ${BROTLI_MODULE};` : ""}
${root ? "user root;" : ""}
worker_processes auto;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy_temp;
  fastcgi_temp_path ${dir}/fastcgi_temp;
  uwsgi_temp_path ${dir}/uwsgi_temp;
  scgi_temp_path ${dir}/scgi_temp;
  keepalive_requests 1000000;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=bench:32m max_size=1g inactive=10m use_temp_path=off;
  upstream origin {
    server 127.0.0.1:${originPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  gzip on;
  gzip_comp_level 6;
  gzip_types text/plain application/json;
  gzip_vary on;
  ${brotli ? "brotli on; brotli_comp_level 4; brotli_types text/plain application/json;" : ""}
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache bench;
      proxy_cache_lock on;
      proxy_cache_use_stale updating error timeout http_500 http_502 http_503 http_504;
      proxy_cache_background_update on;
      proxy_cache_revalidate on;
      add_header Cache-Status "nginx; $upstream_cache_status" always;
    }
  }
}
`;
}
