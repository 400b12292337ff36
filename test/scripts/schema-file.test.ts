import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configJsonSchema } from "../../src/tenant/schema";
import { parseConfigText } from "../../src/tenant/load";

const root = new URL("../../", import.meta.url);

describe("published JSON Schema and demo tenants", () => {
  it("schema/tenants.schema.json matches the zod schema (run `npm run schema` after changing it)", () => {
    const committed = JSON.parse(readFileSync(new URL("schema/tenants.schema.json", root), "utf8"));
    expect(committed).toEqual(configJsonSchema());
  });

  it("the demo tenants file is valid", () => {
    const config = parseConfigText(readFileSync(new URL("fixtures/tenants.demo.json", root), "utf8"));
    expect(config.tenants.map((t) => t.id)).toEqual(["acme", "globex"]);
  });
});
