import { it, expect } from "vitest";
it("node project runs", () => { expect(process.version.startsWith("v22")).toBe(true); });
