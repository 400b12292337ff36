/**
 * `npm run docs [-- --check]`: regenerates the configuration reference in docs/configuration.md
 * (between its BEGIN/END GENERATED markers) from the zod schema, through the same JSON Schema
 * `npm run schema` writes. Run it after changing a description in src/tenant/config-*;
 * test/scripts/docs-file.test.ts fails until you do.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { configJsonSchema } from "../src/tenant/schema";
import { parseCommandLine } from "./lib/args";
import { type SchemaNode, withReference } from "./lib/config-docs";

const USAGE = `Usage: npm run docs [-- --check]

Regenerates the configuration reference in docs/configuration.md from the tenants schema
(src/tenant/); the hand-written text around the generated tables is kept.

  --check      write nothing; exit 1 if docs/configuration.md is out of date
  -h, --help   this text`;

const values = parseCommandLine({ name: "docs", usage: USAGE, options: { check: { type: "boolean", default: false } } });
const target = fileURLToPath(new URL("../docs/configuration.md", import.meta.url));
const current = readFileSync(target, "utf8");
const next = withReference(current, configJsonSchema() as SchemaNode);

if (values.check) {
  if (next !== current) {
    console.error(`docs: ${target} is out of date; run \`npm run docs\``);
    process.exit(1);
  }
  console.log(`docs: ${target} is up to date`);
} else if (next === current) {
  console.log(`unchanged ${target}`);
} else {
  writeFileSync(target, next);
  console.log(`wrote ${target}`);
}
