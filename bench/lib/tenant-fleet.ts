/**
 * Brim with N tenants of its own, for the Tenants scenario. Each size runs in its own
 * `wrangler dev` whose state (the ConfigStore's SQLite, the KV edge copy) persists in a
 * directory of its own: the first start pushes the tenants through the platform API
 * (`PUT /__brim/platform/config`) and waits until an isolate serves them; every start after that
 * finds them in KV, so each start is a fresh isolate that has seen no host yet.
 *
 * Bundled once per bench run from the working tree, as bench/targets/brim.ts does (`wrangler
 * deploy --dry-run`, then `--no-bundle`), so edits to src/ during a run cannot reach it.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker } from "../targets/wrangler";
import type { Target } from "../targets/types";
import type { OriginHandle } from "./origin";
import { getOnce } from "./http";
import { ROOT, WRANGLER } from "./paths";
import { runChild, sleep } from "./procs";

const BUNDLE_TIMEOUT_MS = 120_000;
/** Bound on one platform API call (the PUT of 10,000 tenants validates them and makes the first KV writes). */
const PLATFORM_CALL_TIMEOUT_MS = 120_000;
/** How often a push that is not yet served is checked. */
const PUBLISH_POLL_MS = 250;
const PLATFORM_CONFIG_PATH = "/__brim/platform/config";

/** A path none of a fleet tenant's routes matches: Brim answers 404 NO_ROUTE right after tenant and route resolution. */
export const NO_ROUTE_PATH = "/no-route/here";

/** Tenant `index`'s two hosts. */
export function fleetHosts(index: number): readonly [string, string] {
  const id = fleetTenantId(index);
  return [`${id}.fleet.test`, `www.${id}.fleet.test`];
}

function fleetTenantId(index: number): string {
  return `t${String(index).padStart(5, "0")}`;
}

/** `size` tenants, two hosts each, with the kind of routes a real site has (none matches NO_ROUTE_PATH). */
export function fleetDocument(size: number, originUrl: string): string {
  const tenants = Array.from({ length: size }, (_, index) => ({
    id: fleetTenantId(index),
    hosts: fleetHosts(index),
    origin: originUrl,
    routes: [
      { path: "/api/*", cache: { ttl: 60, staleWhileRevalidate: 600 } },
      { path: "/account/*", cache: false },
      { path: "/assets/:name{[a-z0-9-]+\\.(?:css|js|png)}", cache: { ttl: 86_400 } },
      { path: "/" },
    ],
  }));
  return JSON.stringify({ tenants });
}

export interface SeedTimes {
  /** Until `PUT /__brim/platform/config` answered (validation, the SQLite version, the first KV batch). */
  readonly putS: number;
  /** Until an isolate serves the tenants: the store writes the active version to KV last, after every host record. */
  readonly publishedS: number;
}

export interface FleetStart {
  readonly target: Target;
  /** Set by the start that pushed the tenants (the first of each size); null afterwards. */
  readonly seeded: SeedTimes | null;
}

let workDir: string | null = null;
let bundled: Promise<string> | null = null;
const tokens = new Map<number, string>();

/**
 * Starts Brim with `size` tenants; the caller stops it. The first start of a size pushes them,
 * waits until they are published, and (`freshAfterSeed`, default) starts again, so the isolate
 * measured is never the one that handled the push and polled during it.
 */
export async function startFleet(
  size: number,
  origin: OriginHandle,
  log: (line: string) => void,
  seedTimeoutMs: number,
  freshAfterSeed = true,
): Promise<FleetStart> {
  const dir = fleetDir();
  const config = await (bundled ??= bundle(dir));
  const known = tokens.get(size);
  const token = known ?? randomBytes(24).toString("hex");
  const start = () =>
    startWorker(
      { origin, tmp: dir, log, brimRef: null },
      {
        id: `tenants-${size}`,
        label: `Brim, ${size} tenants`,
        reference: false,
        config,
        noBundle: true,
        vars: { BRIM_PLATFORM_TOKEN: token },
        notes: [],
        readyPath: "/",
        readyHost: "ready.invalid",
      },
    );
  if (known) return { target: await start(), seeded: null };
  const seeding = await start();
  let seeded: SeedTimes;
  try {
    log(`tenants: pushing ${size.toLocaleString("en-US")} tenants through the platform API`);
    seeded = await seed(seeding.port, token, size, origin.url, seedTimeoutMs);
  } catch (error) {
    await seeding.stop();
    throw error;
  }
  tokens.set(size, token);
  const n = size.toLocaleString("en-US");
  log(`tenants: ${n} tenants published in ${seeded.publishedS.toFixed(1)} s (PUT answered in ${seeded.putS.toFixed(1)} s)`);
  if (!freshAfterSeed) return { target: seeding, seeded };
  await seeding.stop();
  return { target: await start(), seeded };
}

/** A directory for the bundle, the configs and each size's persisted state, removed when the bench exits. */
function fleetDir(): string {
  if (workDir === null) {
    const dir = mkdtempSync(join(tmpdir(), "brim-bench-tenants-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    workDir = dir;
  }
  return workDir;
}

/** The working tree bundled by `wrangler deploy --dry-run`; resolves to a wrangler.toml pointing at it. */
async function bundle(dir: string): Promise<string> {
  const out = join(dir, "bundle");
  const build = await runChild(WRANGLER, ["deploy", "--dry-run", "--outdir", out], BUNDLE_TIMEOUT_MS, { cwd: ROOT });
  if (build.code !== 0) throw new Error(`tenants: wrangler deploy --dry-run failed:\n${(build.stdout + build.stderr).slice(-2_000)}`);
  const config = join(dir, "wrangler.toml");
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8").replace(
    /^main\s*=.*$/m,
    `main = ${JSON.stringify(join(out, "index.js"))}`,
  );
  writeFileSync(config, toml);
  return config;
}

/**
 * PUTs the tenants, then asks for one of them until it is served: an isolate that has never
 * read the active version reads it with each host (src/control/directory.ts) and answers 503
 * NOT_CONFIGURED until the store has written it, which it does last. Polling
 * `GET /__brim/platform/config` instead would time the store serializing the whole document
 * (seconds at 10,000 tenants) in the same object that publishes.
 */
async function seed(port: number, token: string, size: number, originUrl: string, timeoutMs: number): Promise<SeedTimes> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const put = await putFleet(port, token, fleetDocument(size, originUrl));
  if (put.status !== 200 || put.body.ok !== true)
    throw new Error(`tenants: push refused (${put.status}): ${JSON.stringify(put.body).slice(0, 1_000)}`);
  const putS = seconds();
  const version = Number(put.body.version);
  const probeHost = fleetHosts(size - 1)[1];
  for (;;) {
    const reply = await getOnce(port, probeHost, NO_ROUTE_PATH);
    if (reply.status === 404) break;
    if (reply.status !== 503) throw new Error(`tenants: ${probeHost} answered ${reply.status} while publishing (expected 503, then 404)`);
    if (seconds() * 1000 > timeoutMs) throw new Error(`tenants: version ${version} not served within ${timeoutMs / 1000} s`);
    await sleep(PUBLISH_POLL_MS);
  }
  const publishedS = seconds();
  // The store's own word, once: the version served is the one pushed.
  const got = await platformCall(port, token, "GET");
  if (Number(got.body.publishedVersion) < version)
    throw new Error(`tenants: served before version ${version} was published (${JSON.stringify(got.body.publishedVersion)})`);
  return { putS, publishedS };
}

/** PUT attempts: the document is the same each time, so a repeat is a no-op for the store (canonical-JSON compare). */
const PUT_ATTEMPTS = 3;

/**
 * The PUT, repeated when what answered was not Brim (a non-JSON 5xx: seen once from the local
 * runtime under `wrangler dev` on a loaded 2-core machine, "501 Unsupported Operation"). Brim's
 * own refusals are JSON and are not repeated. The time counts from the first attempt.
 */
async function putFleet(port: number, token: string, document: string): Promise<PlatformReply> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await platformCall(port, token, "PUT", document);
    } catch (error) {
      if (attempt >= PUT_ATTEMPTS || !/: 5\d\d, not JSON/.test(String(error))) throw error;
      console.error(`bench: tenants: PUT attempt ${attempt} failed (${String(error).slice(0, 200)}); trying again`);
    }
  }
}

interface PlatformReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

function platformCall(port: number, token: string, method: "GET" | "PUT", body?: string): Promise<PlatformReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}` };
    if (body !== undefined) Object.assign(headers, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    const req = request({ host: "127.0.0.1", port, path: PLATFORM_CONFIG_PATH, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", fail);
      res.on("end", () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
        } catch {
          reject(new Error(`${method} ${PLATFORM_CONFIG_PATH}: ${res.statusCode}, not JSON: ${text.slice(0, 300)}`));
        }
      });
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`${method} ${PLATFORM_CONFIG_PATH}: no answer in ${PLATFORM_CALL_TIMEOUT_MS} ms`)),
      PLATFORM_CALL_TIMEOUT_MS,
    );
    function fail(error: Error): void {
      clearTimeout(timer);
      reject(error);
    }
    req.on("error", fail);
    req.end(body);
  });
}
