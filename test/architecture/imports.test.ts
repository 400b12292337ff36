/**
 * Layers point one way (STYLE.md §11). Feature folders depend on the HTTP core (`src/http/`),
 * on `src/tenant/` (config and its types) and on the root files (`errors.ts`, `constants.ts`,
 * `env.ts`), never on each other; only the orchestration layer — `src/app.ts`, `src/index.ts`,
 * `src/pipeline/` (the request path) and `src/admin/` (Brim's own endpoints, which wire
 * features the same way) — imports features. `src/http/` imports nothing of Brim's but the
 * root files. Runs in Node: it reads the source files, it does not load them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");
const FEATURES = ["auth", "cache", "coalesce", "compress", "control", "origin", "purge", "stats"];
const ORCHESTRATION = ["pipeline", "admin"];
const CORE = ["http", "tenant"];
const IMPORT = /(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

/** The top-level unit of a path under src/: a folder name, or the root file's name. */
function unitOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.includes("/") ? rel.slice(0, rel.indexOf("/")) : rel.replace(/\.ts$/, "");
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Every cross-unit import under src/, as "from → to (file)". */
function edges(): { from: string; to: string; file: string }[] {
  return sourceFiles(SRC).flatMap((file) =>
    [...readFileSync(file, "utf8").matchAll(IMPORT)]
      .map((match) => ({ from: unitOf(file), to: unitOf(resolve(dirname(file), match[1]!)), file: relative(SRC, file) }))
      .filter((edge) => edge.from !== edge.to),
  );
}

/** Why an edge is not allowed, or null. */
export function violation(from: string, to: string): string | null {
  if (FEATURES.includes(from) && FEATURES.includes(to)) return `feature ${from} imports feature ${to}`;
  if (FEATURES.includes(from) && ORCHESTRATION.includes(to)) return `feature ${from} imports the orchestration layer (${to})`;
  if (CORE.includes(from) && (FEATURES.includes(to) || ORCHESTRATION.includes(to))) return `core ${from} imports ${to}`;
  if (from === "http" && to !== "errors" && to !== "constants") return `src/http imports ${to}`;
  return null;
}

describe("import layering under src/", () => {
  it("finds the imports it checks (the scanner sees the real tree)", () => {
    const all = edges();
    expect(all.some((edge) => edge.from === "pipeline" && edge.to === "cache")).toBe(true);
    expect(all.some((edge) => edge.from === "cache" && edge.to === "http")).toBe(true);
  });

  it("the rule itself refuses a feature-to-feature import and allows the orchestrator's", () => {
    expect(violation("cache", "compress")).toMatch(/feature cache imports feature compress/);
    expect(violation("http", "tenant")).toMatch(/src\/http imports tenant/);
    expect(violation("pipeline", "compress")).toBeNull();
    expect(violation("auth", "tenant")).toBeNull();
  });

  it("no feature folder imports another, and the core imports no feature", () => {
    const bad = edges().flatMap((edge) => {
      const why = violation(edge.from, edge.to);
      return why ? [`${edge.file}: ${why}`] : [];
    });
    expect(bad).toEqual([]);
  });
});
