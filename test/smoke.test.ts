import { exports } from "cloudflare:workers";
import { inject, it, expect } from "vitest";
it("reaches origin", async () => {
  const port = inject("originPort");
  const res = await exports.default.fetch(`http://x/?o=http://127.0.0.1:${port}/a`);
  expect(await res.text()).toBe("origin:/a");
  const c = await caches.default.match("http://x/nothing");
  expect(c).toBeUndefined();
});
