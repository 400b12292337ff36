import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Two projects: most tests run inside workerd (real Cache API, real Durable Objects) against
// a real origin on 127.0.0.1 started by globalSetup; test/e2e runs in Node because it starts
// the `npm start` stack (wrangler dev + demo origin) as child processes.
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // Worker secrets the auth tests name in tenant config (HMAC key, admin token).
            // TEST_JWT_SECRET is 43 bytes (HS256 only); the other two sit at the RFC 7518 §3.2 edges.
            miniflare: {
              bindings: {
                TEST_JWT_SECRET: "test-hmac-secret-0123456789abcdef0123456789",
                TEST_JWT_SECRET_31: "short-hmac-secret-0123456789abc",
                TEST_JWT_SECRET_48: "test-hmac-secret-48-bytes-0123456789abcdef012345",
                TEST_ADMIN_TOKEN: "test-admin-token-1",
                // The platform API's token (src/admin/platform.ts), as `wrangler secret put` would set it.
                BRIM_PLATFORM_TOKEN: "test-platform-token",
              },
            },
          }),
        ],
        test: {
          name: "workerd",
          include: ["test/**/*.test.ts"],
          exclude: ["test/e2e/**", "test/scripts/**", "test/architecture/**"],
          globalSetup: ["./test/support/global-setup.ts"],
          // After each test: await the waitUntil work of every request it sent (test/support/brim.ts).
          setupFiles: ["./test/support/setup.ts"],
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["test/e2e/**/*.test.ts", "test/scripts/**/*.test.ts", "test/architecture/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
