import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BEGIN_MARKER, configReference, END_MARKER, type SchemaNode, withReference } from "../../scripts/lib/config-docs";
import { configJsonSchema } from "../../src/tenant/schema";

const root = new URL("../../", import.meta.url);

describe("docs/configuration.md", () => {
  it("has the reference generated from the current schema (run `npm run docs` after changing it)", () => {
    const committed = readFileSync(new URL("docs/configuration.md", root), "utf8");
    expect(committed).toBe(withReference(committed, configJsonSchema() as SchemaNode));
  });
});

describe("configReference", () => {
  const schema: SchemaNode = {
    type: "object",
    description: "Root.",
    required: ["items"],
    properties: {
      items: {
        type: "array",
        minItems: 1,
        description: "Things.",
        items: {
          type: "object",
          properties: {
            size: { type: "integer", minimum: 1, maximum: 10, default: 2, description: "How big | how many." },
            mode: { type: "string", enum: ["a", "b"], default: "a", description: "Under /__x/, type/* or <name>." },
            cache: {
              description: "Off or tuned.",
              anyOf: [
                { type: "boolean", const: false },
                { type: "object", properties: { ttl: { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER } } },
              ],
            },
          },
        },
      },
    },
  };
  const out = configReference(schema);

  it("writes one table per object, parents first, with full field paths", () => {
    expect(out.match(/^### .*$/gm)).toEqual(["### Top level", "### `items[]`", "### `items[].cache`"]);
    expect(out).toContain("| `items` | object[], at least 1 | required | Things. |");
    expect(out).toContain("| `items[].cache.ttl` | integer ≥ 0 | — |  |");
  });

  it("shows ranges, enums, unions and defaults, escaped for a table cell", () => {
    expect(out).toContain("| `items[].size` | integer 1–10 | `2` | How big \\| how many. |");
    expect(out).toContain('| `items[].mode` | `"a"` \\| `"b"` | `"a"` | Under /\\_\\_x/, type/\\* or \\<name\\>. |');
    expect(out).toContain("| `items[].cache` | `false` \\| object | — | Off or tuned. |");
  });

  it("replaces only the text between the markers", () => {
    const doc = `# Intro\n\n${BEGIN_MARKER}\nold\n${END_MARKER}\n\nOutro.\n`;
    const next = withReference(doc, schema);
    expect(next.startsWith(`# Intro\n\n${BEGIN_MARKER}\n\n### Top level`)).toBe(true);
    expect(next.endsWith(`\n${END_MARKER}\n\nOutro.\n`)).toBe(true);
    expect(withReference(next, schema)).toBe(next);
    expect(() => withReference("# No markers\n", schema)).toThrow(/must contain/);
  });
});
