/**
 * Reading http-tests/cache-tests results: the suite's own classification (`determineTestResult`
 * in `test-engine/lib/results.mjs`, dependencies honoured as on cache-tests.fyi) turned into
 * counts, so Brim's run and the published results of other caches are counted the same way.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** One test's raw result as the CLI prints it: `true`, or `[kind, message]`. */
export type RawResult = true | [string, string?];
export type RawResults = Record<string, RawResult>;

export interface Counts {
  requiredPass: number;
  requiredFail: number;
  optionalPass: number;
  optionalFail: number;
  /** `check` tests: informational, neither pass nor fail. */
  checkYes: number;
  checkNo: number;
  /** Setup, harness and dependency failures: the test could not say. */
  other: number;
  requiredFailures: string[];
  optionalFailures: string[];
}

export interface Published {
  name: string;
  type: string;
  version: string;
  counts: Counts;
}

interface Suite {
  /** `tests/index.mjs`: the test suites. */
  tests: unknown[];
  determineTestResult: (suites: unknown[], id: string, results: RawResults) => readonly string[];
  resultTypes: Record<string, readonly string[]>;
  index: { file: string; name: string; type: string; version: string }[];
}

/** Loads the suite's test list, its classifier and the index of published results. */
export async function loadSuite(dir: string): Promise<Suite> {
  const load = (path: string) => import(pathToFileURL(join(dir, path)).href);
  const [tests, results, index] = await Promise.all([
    load("tests/index.mjs"),
    load("test-engine/lib/results.mjs"),
    load("results/index.mjs"),
  ]);
  return {
    tests: tests.default,
    determineTestResult: results.determineTestResult,
    resultTypes: results.resultTypes,
    index: index.default,
  };
}

/** Counts `results` with the suite's classifier. Untested ids (browser-only) are not counted. */
export function count(suite: Suite, results: RawResults): Counts {
  const t = suite.resultTypes;
  const counts: Counts = {
    requiredPass: 0,
    requiredFail: 0,
    optionalPass: 0,
    optionalFail: 0,
    checkYes: 0,
    checkNo: 0,
    other: 0,
    requiredFailures: [],
    optionalFailures: [],
  };
  for (const id of Object.keys(results).sort()) {
    const kind = suite.determineTestResult(suite.tests, id, results);
    if (kind === t.untested) continue;
    const optional = kindOf(suite, id) === "optimal";
    if (kind === t.pass) optional ? counts.optionalPass++ : counts.requiredPass++;
    else if (kind === t.fail) (counts.requiredFail++, counts.requiredFailures.push(id));
    else if (kind === t.optional_fail) (counts.optionalFail++, counts.optionalFailures.push(id));
    else if (kind === t.yes) counts.checkYes++;
    else if (kind === t.no) counts.checkNo++;
    else counts.other++;
  }
  return counts;
}

/** The published results in the suite's `results/`, counted as `count` does. */
export function published(suite: Suite, dir: string): Published[] {
  return suite.index.map((entry) => {
    const raw = JSON.parse(readFileSync(join(dir, "results", entry.file), "utf8")) as RawResults;
    return { name: entry.name, type: entry.type, version: entry.version, counts: count(suite, raw) };
  });
}

/** A Markdown table: one row per cache, Brim first. */
export function comparisonTable(brim: Counts, others: readonly Published[]): string {
  const rows = [
    "| cache | type | required pass | required fail | optional pass | optional fail |",
    "|---|---|---:|---:|---:|---:|",
    row("**Brim**", "cdn", brim),
    ...others.map((o) => row(`${o.name} ${o.version}`, o.type, o.counts)),
  ];
  return rows.join("\n");
}

function row(name: string, type: string, c: Counts): string {
  return `| ${name} | ${type} | ${c.requiredPass} | ${c.requiredFail} | ${c.optionalPass} | ${c.optionalFail} |`;
}

function kindOf(suite: Suite, id: string): string | undefined {
  for (const s of suite.tests as { tests: { id: string; kind?: string }[] }[]) {
    for (const test of s.tests) if (test.id === id) return test.kind;
  }
  return undefined;
}
