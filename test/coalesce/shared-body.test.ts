import { describe, expect, it } from "vitest";
import { SharedBody } from "../../src/coalesce/shared-body";

/** A source that yields `chunks` chunks of `size` bytes, byte value = chunk index % 256. */
function source(chunks: number, size: number, onPull?: (i: number) => void): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      onPull?.(i);
      if (i >= chunks) return controller.close();
      controller.enqueue(new Uint8Array(size).fill(i % 256));
      i += 1;
    },
  });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function expected(chunks: number, size: number): Uint8Array {
  const out = new Uint8Array(chunks * size);
  for (let i = 0; i < chunks; i++) out.fill(i % 256, i * size, (i + 1) * size);
  return out;
}

describe("SharedBody", () => {
  it("gives every reader the whole body, including readers that join after bytes arrived", async () => {
    const body = new SharedBody(source(10, 1000), { sharedMaxBytes: 1e6, maxLagBytes: 1e5 });
    const first = readAll(body.reader());
    await body.settled;
    const late = readAll(body.reader());
    expect(await first).toEqual(expected(10, 1000));
    expect(await late).toEqual(expected(10, 1000));
    expect(body.bytes()).toEqual(expected(10, 1000));
    expect(body.joinable).toBe(true);
  });

  it("past the shared limit: stops taking readers, releases passed bytes, still delivers everything", async () => {
    let maxAhead = 0;
    let consumed = 0;
    const body = new SharedBody(
      source(200, 10_000, (i) => (maxAhead = Math.max(maxAhead, i * 10_000 - consumed))),
      { sharedMaxBytes: 50_000, maxLagBytes: 100_000 },
    );
    const a = body.reader();
    const b = body.reader();
    // Reader b is slow: it reads one chunk for every chunk a reads, but later.
    const readA = readAll(a);
    const chunksB: Uint8Array[] = [];
    const readerB = b.getReader();
    for (;;) {
      const { done, value } = await readerB.read();
      if (done) break;
      chunksB.push(value);
      consumed += value.byteLength;
    }
    const all = new Uint8Array(await new Response(new Blob(chunksB)).arrayBuffer());
    expect(await readA).toEqual(expected(200, 10_000));
    expect(all).toEqual(expected(200, 10_000));
    expect(body.joinable).toBe(false);
    expect(body.bytes()).toBeNull();
    // The origin was never read more than the lag bound (+ one chunk, + the shared prefix) ahead of the slow reader.
    expect(maxAhead).toBeLessThanOrEqual(50_000 + 100_000 + 2 * 10_000);
    // 2 MB through two readers in 10 kB chunks, one of them slow: an explicit budget for a busy machine.
  }, 30_000);

  it("propagates an origin body error to every reader", async () => {
    let n = 0;
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (n++ < 2) controller.enqueue(new Uint8Array(10));
        else controller.error(new Error("connection reset"));
      },
    });
    const body = new SharedBody(failing, { sharedMaxBytes: 1e6, maxLagBytes: 1e5 });
    await expect(readAll(body.reader())).rejects.toThrow("connection reset");
    expect(body.joinable).toBe(false);
  });
});
