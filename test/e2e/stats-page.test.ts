/**
 * `GET /__brim/` in headless Chromium (Debian's `chromium`, driven by playwright-core): real
 * `wrangler dev` (workerd, the real StatsLog and PurgeLog objects) in front of a tiny origin,
 * its tenant pushed through the platform API, some traffic, then an operator's visit: the page
 * sends the browser to the login form, the token typed into it opens the page (a session
 * cookie, no header), and the page shows what an operator reads: chart titles, axis and legend
 * labels, the numbers of a known request mix in its tables; the hit-ratio line on a screenshot.
 * Without /usr/bin/chromium it skips, saying why; in CI (`CI` set) it fails instead (`.ci/run`
 * installs it).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PlatformClient } from "../../scripts/lib/platform";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
const TOKEN = "page-test-admin-token";
const PLATFORM_TOKEN = "page-test-platform-token";
const READY_TIMEOUT_MS = 60_000;
/** Large enough for Brim to compress it. */
const BIG_JSON = JSON.stringify({ items: Array.from({ length: 400 }, (_, i) => ({ id: i, title: `Item ${i}` })) });
const available = existsSync(CHROMIUM);
/** In CI (`CI` set, as `.ci/run` callers do) the page must be tested: a missing Chromium fails. */
const required = Boolean(process.env.CI);
if (!available && !required) console.warn(`stats page test skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitReady(url: string): Promise<void> {
  const until = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < until) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`wrangler dev did not answer on ${url}`);
}

describe.skipIf(!available && !required)("GET /__brim/ in headless Chromium", () => {
  let origin: Server;
  let wrangler: ChildProcess;
  let base = "";
  let output = "";

  beforeAll(async () => {
    if (!available)
      throw new Error(
        `${CHROMIUM} not found, and CI is set: CI must run this test (.ci/run installs Debian's chromium; apt-get install -y chromium)`,
      );
    origin = createServer((req, res) => {
      if (req.url?.startsWith("/big")) {
        // With its identity length, so Brim can count what compression saved.
        res.writeHead(200, {
          "content-type": "application/json",
          "cache-control": "max-age=600",
          "content-length": Buffer.byteLength(BIG_JSON),
        });
        res.end(BIG_JSON);
        return;
      }
      res.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=600" });
      res.end(`origin ${req.url}`);
    });
    const originPort = await listen(origin);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const config = {
      tenants: [
        {
          id: "pagetest",
          hosts: [`127.0.0.1:${port}`],
          origin: `http://127.0.0.1:${originPort}`,
          admin: { tokenEnv: "PAGE_ADMIN_TOKEN" },
          routes: [{ path: "/*", cache: {} }],
        },
      ],
    };
    wrangler = spawn(
      join(ROOT, "node_modules/.bin/wrangler"),
      [
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--var",
        `BRIM_PLATFORM_TOKEN:${PLATFORM_TOKEN}`,
        "--var",
        `PAGE_ADMIN_TOKEN:${TOKEN}`,
        "--persist-to",
        mkdtempSync(join(tmpdir(), "brim-page-")),
        "--show-interactive-dev-session=false",
      ],
      {
        cwd: ROOT,
        detached: true,
        stdio: "pipe",
        env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" },
      },
    );
    wrangler.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    wrangler.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    // Any answer will do (503 until the config is pushed); nothing reaches the origin.
    await waitReady(`${base}/__brim/stats`);
    const platform = new PlatformClient({ url: base, token: PLATFORM_TOKEN });
    const pushed = await platform.putConfig(config);
    expect(pushed).toMatchObject({ version: 1, missingSecrets: [] });
    expect(pushed.published || (await platform.waitForPublished(pushed.version, READY_TIMEOUT_MS))).toBe(true);
  });

  afterAll(async () => {
    try {
      if (wrangler?.pid !== undefined) process.kill(-wrangler.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
    if (origin) await new Promise((resolve) => origin.close(resolve));
  });

  it("needs the admin token: the page sends a browser to the login form, the JSON answers 401", async () => {
    const page = await fetch(`${base}/__brim/`, { redirect: "manual" });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/__brim/login");
    expect((await fetch(`${base}/__brim/stats`)).status).toBe(401);
  });

  it("logs in through the form and shows the charts, labels and numbers of a known request mix", async () => {
    // 2 paths × (1 miss + 4 hits): 10 requests, 8 hits, hit ratio 80 %, all 2xx.
    for (const path of ["/a", "/b"]) for (let i = 0; i < 5; i++) await (await fetch(`${base}${path}`)).text();
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      // No credentials: the form. A wrong token: the form again, with the refusal.
      await page.goto(`${base}/__brim/`);
      expect(new URL(page.url()).pathname, output.slice(-2000)).toBe("/__brim/login");
      await page.fill("#token", "not-the-token");
      await Promise.all([page.waitForLoadState("load"), page.click("button[type=submit]")]);
      expect(await page.locator("#problem").innerText()).toBe("That token was not accepted.");
      await page.fill("#token", TOKEN);
      await Promise.all([page.waitForURL(`${base}/__brim/`), page.click("button[type=submit]")]);
      expect(await page.title()).toBe("Brim · pagetest");
      // The session is a cookie the page's script could not read (there is none), scoped to /__brim.
      const [cookie] = await context.cookies();
      expect(cookie).toMatchObject({ name: "brim_session", path: "/__brim", httpOnly: true, sameSite: "Strict" });
      expect(cookie?.value).not.toContain(TOKEN);

      // Numbers in the tables.
      expect(await page.locator("#summary-requests").innerText()).toBe("10");
      expect(await page.locator("#summary-hit-ratio").innerText()).toBe("80.0%");
      expect(await page.locator("#summary-origin-fetches").innerText()).toBe("2");
      expect(await page.locator("#status-classes tr", { hasText: "2xx" }).innerText()).toMatch(/2xx\s+10\s+100\.0%/);
      expect(await page.locator("#cache-outcomes tr", { hasText: /^hit/ }).first().innerText()).toMatch(/^hit\s+8\s+80\.0%/);
      expect(await page.locator("#cache-outcomes tr", { hasText: "uri-miss" }).innerText()).toMatch(/uri-miss\s+2\s+20\.0%/);
      expect(await page.locator("#routes").innerText()).toMatch(/\/\*\s+10\s+80\.0%/);
      expect(await page.locator("#errors").innerText()).toContain("none");
      // Chart titles, legends, axis labels with units and HH:MM UTC time ticks.
      const titles = await page.locator("section.chart h3").allInnerTexts();
      expect(titles).toEqual([
        "Requests by status class",
        "Requests by Cache-Status outcome",
        "Hit ratio",
        "Origin offload",
        "Origin latency (bucket upper bounds)",
        "Bytes served and saved by compression",
        "Errors (origin, body, auth, coalescing)",
        "Durable Object calls per 1,000 requests",
      ]);
      expect(await page.locator("#legend-status li").allInnerTexts()).toEqual(["1xx", "2xx", "3xx", "4xx", "5xx"]);
      expect(await page.locator("#legend-outcomes li").allInnerTexts()).toEqual(["hit", "uri-miss"]);
      expect(await page.locator("#legend-latency li").allInnerTexts()).toEqual(["p50", "p99"]);
      expect(await page.locator("#chart-hit-ratio .y-tick").allTextContents()).toEqual(["0%", "25%", "50%", "75%", "100%"]);
      expect(await page.locator("#chart-hit-ratio .x-label").textContent()).toBe("time (UTC)");
      expect(await page.locator("#chart-bytes .y-label").textContent()).toBe("bytes per minute");
      expect(await page.locator("#chart-latency .y-label").textContent()).toBe("milliseconds");
      const times = await page.locator("#chart-status .x-tick").allTextContents();
      expect(times.length).toBeGreaterThan(0);
      for (const time of times) expect(time).toMatch(/^([01]\d|2[0-3]):[0-5]\d$/);
      for (const id of ["status", "outcomes", "hit-ratio", "offload", "latency", "bytes"]) {
        expect(Number(await page.locator(`#chart-${id}`).getAttribute("data-points")), id).toBeGreaterThan(0);
      }
      // The hit-ratio line is drawn in #2a7 (34, 170, 119): its pixels must be on the screenshot.
      const png = await page.locator("#chart-hit-ratio").screenshot();
      expect(countPixels(png, [34, 170, 119])).toBeGreaterThanOrEqual(10);
      // Refreshing itself: the meta refresh is there, and a reload (with the cookie alone) shows new traffic.
      expect(await page.locator('meta[http-equiv="refresh"]').getAttribute("content")).toMatch(/^\d+$/);
      await (await fetch(`${base}/c`)).text();
      await page.reload();
      expect(await page.locator("body").innerText()).toContain("11 requests");
      // Logging out ends it: the page sends the browser to the form again.
      await Promise.all([page.waitForURL(`${base}/__brim/login`), page.click("text=Log out")]);
      await page.goto(`${base}/__brim/`);
      expect(new URL(page.url()).pathname).toBe("/__brim/login");
    } finally {
      await browser.close();
    }
  });

  it("a Brim-compressed body (counted as it streams) reaches the client intact, and its bytes are counted", async () => {
    const before = (await (await fetch(`${base}/__brim/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
      total: { bytesServed: number; compressionBytesSaved: number };
    };
    // Node's fetch decodes gzip: a body encoded twice (or cut short) would not equal the origin's.
    const res = await fetch(`${base}/big`, { headers: { "accept-encoding": "gzip" } });
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(await res.text()).toBe(BIG_JSON);
    const after = (await (await fetch(`${base}/__brim/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as typeof before;
    const saved = after.total.compressionBytesSaved - before.total.compressionBytesSaved;
    expect(saved).toBeGreaterThan(0);
    // What went on the wire: the identity length minus what compression saved.
    expect(after.total.bytesServed - before.total.bytesServed).toBe(Buffer.byteLength(BIG_JSON) - saved);
  });
});

/** Pixels of `rgb` (±16 per channel) in an 8-bit RGB/RGBA, non-interlaced PNG. */
function countPixels(png: Buffer, rgb: readonly [number, number, number]): number {
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 4;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("ascii", offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      channels = data[9] === 6 ? 4 : 3;
    } else if (type === "IDAT") idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const previous = Buffer.alloc(stride);
  const current = Buffer.alloc(stride);
  let count = 0;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? (current[x - channels] as number) : 0;
      const b = previous[x] as number;
      const c = x >= channels ? (previous[x - channels] as number) : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const predictor =
        filter === 1
          ? a
          : filter === 2
            ? b
            : filter === 3
              ? (a + b) >> 1
              : filter === 4
                ? pa <= pb && pa <= pc
                  ? a
                  : pb <= pc
                    ? b
                    : c
                : 0;
      current[x] = ((row[x] as number) + predictor) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const i = x * channels;
      if (
        Math.abs((current[i] as number) - rgb[0]) <= 16 &&
        Math.abs((current[i + 1] as number) - rgb[1]) <= 16 &&
        Math.abs((current[i + 2] as number) - rgb[2]) <= 16
      )
        count++;
    }
    current.copy(previous);
  }
  return count;
}
