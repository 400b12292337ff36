/**
 * Writes schema/tenants.schema.json from the zod schema `loadConfig` uses, so editors can
 * complete and check tenants files. Run with `npm run schema` after changing src/tenant/config-*
 * (then `npm run docs`, which renders the same schema into docs/configuration.md).
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { configJsonSchema } from "../src/tenant/schema";
import { parseCommandLine } from "./lib/args";

const USAGE = `Usage: npm run schema

Writes schema/tenants.schema.json (the JSON Schema editors use for tenants files) from the
zod schema in src/tenant/. Takes no options.

  -h, --help   this text`;

parseCommandLine({ name: "schema", usage: USAGE, options: {} });
const target = fileURLToPath(new URL("../schema/tenants.schema.json", import.meta.url));
writeFileSync(target, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target}`);
