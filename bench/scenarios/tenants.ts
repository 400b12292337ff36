/**
 * Tenants (issue 13): what resolving a Host costs at 10 and at 10,000 tenants (two hosts each),
 * with tenant config in the config store (a ConfigStore object publishing one KV record per
 * host; src/control/). Every request asks for a path no route matches, so Brim answers 404
 * NO_ROUTE right after tenant and route resolution: no cache, no origin. Brim runs here in
 * instances of its own (bench/lib/tenant-fleet.ts), one per size, both started fresh for every
 * run so their isolates have seen no host; the shared Brim target only gives the row its place.
 * The static Worker gets the same requests (it answers 200 to anything): the wrangler dev floor.
 */
import { CONFIG_ISOLATE_MAX_HOSTS } from "../../src/constants";
import type { Mode } from "../lib/settings";
import { fleetHosts, NO_ROUTE_PATH, startFleet, type FleetStart } from "../lib/tenant-fleet";
import { coldThenAgain, slicedLoads, type HostLoad } from "../lib/tenant-probes";
import { ERRORS_METRIC, type MetricSpec, type Metrics, type Scenario, type ScenarioContext } from "./types";

interface TenantsSettings {
  readonly small: number;
  readonly large: number;
  /** Cold hosts sampled at the large size: both hosts of tenants spread over the list (every host at the small size). */
  readonly coldHosts: number;
  /** Hosts of the large size's second steady-state run (its first cycles the small size's hosts). */
  readonly manyHosts: number;
  readonly connections: number;
  /** Per steady-state run, split in `slices` taken in rotating order. */
  readonly durationMs: number;
  readonly slices: number;
  /** Bound on a push's publication to KV. */
  readonly seedTimeoutMs: number;
  /**
   * Full and quick: the sizes start one after the other (their push times stay apart) and restart after their push.
   * Smoke (npm test's time budget): both at once, measured on the isolate that took the push.
   */
  readonly sequentialStarts: boolean;
  readonly warmupRequests: number;
}

const FULL: TenantsSettings = {
  small: 10,
  large: 10_000,
  coldHosts: 200,
  manyHosts: 1_000,
  connections: 10,
  durationMs: 6_000,
  slices: 3,
  seedTimeoutMs: 600_000,
  sequentialStarts: true,
  warmupRequests: 30,
};
/** Smoke keeps the large size small: publishing 20,000 hosts alone takes longer than the whole smoke run may. */
const TENANTS: Readonly<Record<Mode, TenantsSettings>> = {
  full: FULL,
  quick: { ...FULL, durationMs: 3_000, slices: 1 },
  smoke: {
    ...FULL,
    large: 50,
    coldHosts: 20,
    manyHosts: 40,
    connections: 5,
    durationMs: 900,
    slices: 1,
    seedTimeoutMs: 60_000,
    sequentialStarts: false,
    warmupRequests: 10,
  },
};

const SMALL = `${FULL.small} tenants`;
const LARGE = `${FULL.large.toLocaleString("en-US")} tenants`;
const MANY = `${LARGE}, ${FULL.manyHosts.toLocaleString("en-US")} hosts`;
const COLD_TABLE =
  "First request for a host the isolate has not seen, then the same host again, one at a time on one keep-alive connection (ms)";
const WARM_TABLE = `Steady state on warm hosts (the ${FULL.small * 2} hosts of the first ${FULL.small} tenants, or ${FULL.manyHosts.toLocaleString("en-US")} hosts)`;
const SEED_TABLE = "Config push through the platform API, once per bench run (s)";

const sized = (table: string, suffix: string, label: string, better: MetricSpec["better"], digits: number, many = false): MetricSpec[] => [
  { key: `small${suffix}`, label: `${SMALL}: ${label}`, better, digits, table },
  { key: `large${suffix}`, label: `${LARGE}: ${label}`, better, digits, table, relativeTo: `small${suffix}` },
  ...(many ? [{ key: `many${suffix}`, label: `${MANY}: ${label}`, better, digits, table, relativeTo: `small${suffix}` }] : []),
];
const seeding = (size: "small" | "large", suffix: string, label: string): MetricSpec => ({
  key: `${size}${suffix}`,
  label: `${size === "small" ? SMALL : LARGE}: ${label}`,
  better: "lower",
  digits: 1,
  table: SEED_TABLE,
  optional: true,
});

export const tenants: Scenario = {
  id: "tenants",
  title: "Tenant resolution at scale",
  describe: (s) => {
    const t = TENANTS[s.mode];
    const sizes = t.large === FULL.large ? "" : ` (${s.mode} mode: ${t.small} and ${t.large.toLocaleString("en-US")} tenants)`;
    return (
      `Brim with ${SMALL} and with ${LARGE}${sizes}, two hosts each, pushed through the platform API (\`PUT /__brim/platform/config\`) ` +
      "and published to KV before anything is measured. Every request is a GET for a path no route matches: Brim answers 404 NO_ROUTE right " +
      "after tenant and route resolution (no cache, no origin). Each run starts both sizes fresh (wrangler dev, state kept), so each isolate " +
      `has seen no host, and sends ${t.warmupRequests} requests to made-up hosts first. Cold: for each of up to ${t.coldHosts} hosts ` +
      `(both hosts of tenants spread over the list; all ${t.small * 2} at ${SMALL}), its first request (one KV read), then the same host again; ` +
      '"added" is the median of first − again per host. p99 of 20 samples is their maximum. ' +
      `Steady state: ${t.connections} keep-alive connections cycling the Host header through warm hosts, ${t.durationMs / 1000} s per run in ` +
      `${t.slices} slice${t.slices === 1 ? "" : "s"} taken in rotating order. (×r) is over ${SMALL}. The static Worker (answers 200 to anything) ` +
      "gets the same requests: the wrangler dev floor. The push is timed from the PUT until a tenant is served (asked every 250 ms: the store " +
      "writes the active version to KV last, after every host record; confirmed by `GET /__brim/platform/config`); the store writes at most " +
      "400 KV records per invocation and continues on an alarm."
    );
  },
  includeReference: true,
  targets: ["brim", "static"],
  headline: "largeColdP50",
  headlineLabel: `first request for a cold host at ${LARGE}, p50 ms, ×ratio to ${SMALL}`,
  metrics: [
    ...sized(COLD_TABLE, "ColdP50", "first, p50", "lower", 2),
    ...sized(COLD_TABLE, "ColdP99", "first, p99", "lower", 2),
    ...sized(COLD_TABLE, "AgainP50", "again, p50", "lower", 2),
    ...sized(COLD_TABLE, "ExtraP50", "added by the first", "lower", 2),
    ...sized(WARM_TABLE, "Rps", "req/s", "higher", 0, true),
    ...sized(WARM_TABLE, "P50", "p50 ms", "lower", 2, true),
    { ...ERRORS_METRIC, table: WARM_TABLE },
    seeding("small", "PutS", "PUT answered"),
    seeding("small", "PublishedS", "published"),
    seeding("large", "PutS", "PUT answered"),
    seeding("large", "PublishedS", "published"),
  ],
  async run(context) {
    const t = TENANTS[context.settings.mode];
    if (t.coldHosts + t.manyHosts + t.warmupRequests > CONFIG_ISOLATE_MAX_HOSTS)
      throw new Error(`tenants: more hosts than an isolate keeps (${CONFIG_ISOLATE_MAX_HOSTS}): warm hosts would be evicted`);
    if (context.target.reference)
      return measure(context, t, { port: context.target.port, expected: 200 }, { port: context.target.port, expected: 200 });
    const log = (line: string) => console.log(`bench: ${line}`);
    const started: FleetStart[] = [];
    try {
      const start = (size: number) => startFleet(size, context.origin, log, t.seedTimeoutMs, t.sequentialStarts);
      if (t.sequentialStarts) for (const size of [t.small, t.large]) started.push(await start(size));
      else {
        const both = await Promise.allSettled([start(t.small), start(t.large)]);
        for (const one of both) if (one.status === "fulfilled") started.push(one.value);
        for (const one of both) if (one.status === "rejected") throw one.reason;
      }
      const [small, large] = started as [FleetStart, FleetStart];
      const metrics = await measure(context, t, { port: small.target.port, expected: 404 }, { port: large.target.port, expected: 404 });
      for (const [size, fleet] of [["small", small] as const, ["large", large] as const]) {
        if (fleet.seeded) Object.assign(metrics, { [`${size}PutS`]: fleet.seeded.putS, [`${size}PublishedS`]: fleet.seeded.publishedS });
      }
      return metrics;
    } finally {
      for (const fleet of started) await fleet.target.stop();
    }
  },
};

interface Side {
  readonly port: number;
  readonly expected: number;
}

/** Cold samples on each size (each on an isolate of its own, for Brim), then the steady-state runs interleaved. */
async function measure(context: ScenarioContext, t: TenantsSettings, small: Side, large: Side): Promise<Metrics> {
  const warmup = Array.from({ length: t.warmupRequests }, (_, i) => `warmup-${i}.invalid`);
  const few = hostsOf(t.small);
  const many = hostsOf(Math.ceil(t.manyHosts / 2)).slice(0, t.manyHosts);
  const probe = (side: Side, count: number, prime: readonly string[]) =>
    coldThenAgain({
      port: side.port,
      path: NO_ROUTE_PATH,
      warmup,
      hosts: coldSample(count, t.coldHosts),
      prime,
      expectedStatus: side.expected,
    });
  const coldSmall = prefixed("small", await probe(small, t.small, few));
  const coldLarge = prefixed("large", await probe(large, t.large, many));
  const load = (side: Side, hosts: readonly string[]): HostLoad => ({
    port: side.port,
    path: NO_ROUTE_PATH,
    hosts,
    expectedStatus: side.expected,
  });
  const steady = await slicedLoads(
    context.load,
    { small: load(small, few), large: load(large, few), many: load(large, many) },
    t.connections,
    t.durationMs,
    t.slices,
  );
  const metrics: Metrics = { ...coldSmall, ...coldLarge, ...steady, manyHosts: many.length };
  metrics.errors =
    (metrics.smallErrors ?? 0) +
    (metrics.largeErrors ?? 0) +
    (metrics.manyErrors ?? 0) +
    (metrics.smallWrongStatus ?? 0) +
    (metrics.largeWrongStatus ?? 0);
  return metrics;
}

/** Both hosts of up to `hosts / 2` tenants spread evenly over `count`, tenant by tenant. */
function coldSample(count: number, hosts: number): string[] {
  const tenants = Math.min(count, Math.ceil(hosts / 2));
  return Array.from({ length: tenants }, (_, k) => fleetHosts(Math.floor((k * count) / tenants))).flat();
}

/** Both hosts of the first `tenants` tenants. */
function hostsOf(tenants: number): string[] {
  return Array.from({ length: tenants }, (_, k) => fleetHosts(k)).flat();
}

function prefixed(size: string, metrics: Metrics): Metrics {
  return Object.fromEntries(Object.entries(metrics).map(([key, value]) => [`${size}${key}`, value]));
}
