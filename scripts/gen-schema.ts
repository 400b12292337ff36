/**
 * Writes schema/tenants.schema.json from the zod schema `loadConfig` uses, so editors can
 * complete and check tenants files. Run with `npm run schema` after changing src/tenant/config-*.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { configJsonSchema } from "../src/tenant/schema";

const target = fileURLToPath(new URL("../schema/tenants.schema.json", import.meta.url));
writeFileSync(target, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target}`);
