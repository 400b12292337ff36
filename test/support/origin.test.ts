/** The scriptable origin itself, exercised over HTTP from workerd as Brim's tests use it. */
import { describe, expect, it } from "vitest";
import { count, generatedBody, originUrl, release, requests, script, uniqueGate, uniquePath, untilCount } from "./origin";

const get = (path: string, init?: RequestInit) => fetch(`${originUrl()}${path}`, init);

describe("unscripted paths", () => {
  it("answer origin:<pathname>#<count> with no cache headers", async () => {
    const path = uniquePath();
    const first = await get(path);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("text/plain");
    expect(first.headers.get("cache-control")).toBeNull();
    expect(first.headers.get("x-origin-count")).toBe("1");
    expect(await first.text()).toBe(`origin:${path}#1`);
    expect(await (await get(`${path}?a=1`)).text()).toBe(`origin:${path}#2`);
  });
});

describe("scripts", () => {
  it("play responses in order and repeat the last", async () => {
    const path = uniquePath();
    await script(path, [
      { status: 201, body: "one", headers: { "x-a": "1", "set-cookie": ["a=1", "b=2"] } },
      { status: 404, body: "two" },
    ]);
    const first = await get(path);
    expect([first.status, await first.text(), first.headers.get("x-a")]).toEqual([201, "one", "1"]);
    expect(first.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    for (const n of [2, 3]) {
      const res = await get(path);
      expect([res.status, await res.text(), res.headers.get("x-origin-count")]).toEqual([404, "two", String(n)]);
    }
  });

  it("share one script and counter across queries, restarting the sequence when re-scripted", async () => {
    const path = uniquePath();
    await script(`${path}?ignored=1`, [{ body: "a" }, { body: "b" }]);
    expect(await (await get(`${path}?x=1`)).text()).toBe("a");
    expect(await (await get(`${path}?x=2`)).text()).toBe("b");
    await script(path, [{ body: "c#{count}" }]);
    expect(await (await get(path)).text()).toBe("c#3");
  });

  it("fill templates in the body and in header values", async () => {
    const path = uniquePath();
    await script(path, [{ body: "{count} {method} {query} [{header:X-Who}] [{header:x-none}]", headers: { etag: '"v{count}"' } }]);
    const res = await get(`${path}?q=1&r=2`, { method: "POST", headers: { "x-who": "me" }, body: "hi" });
    expect(await res.text()).toBe("1 POST q=1&r=2 [me] []");
    expect(res.headers.get("etag")).toBe('"v1"');
  });

  it("generate bodyBytes deterministically, in chunks", async () => {
    const path = uniquePath();
    const size = 200_000;
    await script(path, [{ bodyBytes: size, chunkDelayMs: 1 }]);
    const res = await get(path);
    expect(res.headers.get("content-length")).toBe(String(size));
    expect(await res.text()).toBe(generatedBody(size));
  });

  it("hold a gated response until the gate opens", async () => {
    const path = uniquePath();
    const gate = uniqueGate();
    await script(path, [{ body: "held", gate }]);
    let answered = false;
    const pending = get(path).then(async (res) => {
      answered = true;
      return res.text();
    });
    expect(await untilCount(path, 1)).toBe(1);
    expect(answered).toBe(false);
    await release(gate);
    expect(await pending).toBe("held");
  });

  it("reset the connection or hang when told", async () => {
    const reset = uniquePath();
    await script(reset, [{ reset: true }]);
    await expect(get(reset)).rejects.toThrow();
    const hang = uniquePath();
    await script(hang, [{ hang: true }]);
    await expect(get(hang, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    expect(await count(reset)).toBe(1);
    expect(await count(hang)).toBe(1);
  });
});

describe("conditional requests", () => {
  const lastModified = "Wed, 01 Jan 2025 00:00:00 GMT";

  it("answer 304 when If-None-Match matches the ETag (weak comparison, lists, *)", async () => {
    const path = uniquePath();
    await script(path, [{ body: "full", headers: { etag: '"v1"', "cache-control": "max-age=60" } }]);
    for (const tag of ['"v1"', 'W/"v1"', '"x", "v1"', "*"]) {
      const res = await get(path, { headers: { "if-none-match": tag } });
      expect(res.status, tag).toBe(304);
      expect(res.headers.get("etag")).toBe('"v1"');
      expect(res.headers.get("cache-control")).toBe("max-age=60");
      expect(await res.text()).toBe("");
    }
    const other = await get(path, { headers: { "if-none-match": '"v2"', "if-modified-since": lastModified } });
    expect([other.status, await other.text()]).toEqual([200, "full"]);
    expect(await count(path)).toBe(5);
  });

  it("answer 304 when If-Modified-Since is not before Last-Modified", async () => {
    const path = uniquePath();
    await script(path, [{ body: "full", headers: { "last-modified": lastModified } }]);
    const same = await get(path, { headers: { "if-modified-since": lastModified } });
    expect(same.status).toBe(304);
    const later = await get(path, { headers: { "if-modified-since": "Thu, 02 Jan 2025 00:00:00 GMT" } });
    expect(later.status).toBe(304);
    const earlier = await get(path, { headers: { "if-modified-since": "Tue, 31 Dec 2024 23:59:59 GMT" } });
    expect([earlier.status, await earlier.text()]).toEqual([200, "full"]);
    expect(later.headers.get("x-origin-count")).toBe("2");
  });

  it("leave non-2xx responses alone", async () => {
    const path = uniquePath();
    await script(path, [{ status: 500, body: "oops", headers: { etag: '"v1"' } }]);
    expect((await get(path, { headers: { "if-none-match": '"v1"' } })).status).toBe(500);
  });
});

describe("request log", () => {
  it("records method, url, lower-cased headers and body length", async () => {
    const path = uniquePath();
    await get(`${path}?a=1`, { method: "PUT", headers: { "X-Trace": "t1" }, body: "12345" });
    await get(path);
    const log = await requests(path);
    expect(log.count).toBe(2);
    expect(log.requests[0]).toMatchObject({ method: "PUT", url: `${path}?a=1`, bodyLength: 5 });
    expect(log.requests[0]?.headers["x-trace"]).toBe("t1");
    expect(log.requests[1]).toMatchObject({ method: "GET", url: path, bodyLength: 0 });
  });

  it("is empty for a path nobody requested", async () => {
    expect(await requests(uniquePath())).toEqual({ count: 0, requests: [] });
  });
});

describe("normalising mode (/norm/)", () => {
  it("reads paths as nginx/Tomcat would: one script and counter per reading, {path} as received", async () => {
    const path = uniquePath();
    await script(`/norm${path}/private/x`, [{ body: "{path} #{count}" }]);
    const spellings = [
      `/norm${path}/private/x`,
      `/norm${path}/pub/..%2fprivate/x`,
      `/norm${path}//private/x`,
      `/norm${path}/private;v=1/x`,
      `/norm${path}/%70rivate/x`,
    ];
    for (const [i, spelling] of spellings.entries()) expect(await (await get(spelling)).text()).toBe(`${spelling} #${i + 1}`);
    expect((await requests(`/norm${path}/private/x`)).requests.map((r) => r.url)).toStrictEqual(spellings);
  });
});
