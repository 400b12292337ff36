import { CACHE_SEGMENT_BYTES } from "../constants";
import { sliceBody } from "../http/range";

/**
 * Bodies as the store writes and reads them: buffers of CACHE_SEGMENT_BYTES (src/cache/store.ts
 * commits each whole), read back as one stream or as only the segments a byte range needs.
 */

/** Byte length of each segment of a body of `bytes` in `segments` segments. */
export function segmentLengths(bytes: number, segments: number): number[] {
  return Array.from({ length: segments }, (_, i) =>
    i < segments - 1 ? CACHE_SEGMENT_BYTES : bytes - CACHE_SEGMENT_BYTES * (segments - 1),
  );
}

/**
 * Reads `body` into buffers of exactly `size` bytes (the last one shorter). Throws if the body
 * errors or passes `maxBytes`: the caller commits nothing.
 */
export async function* segmentsOf(body: ReadableStream<Uint8Array>, size: number, maxBytes: number): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let total = 0;
  let yielded = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) throw new Error(`body exceeds maxObjectBytes (${maxBytes})`);
      pending.push(value);
      pendingBytes += value.byteLength;
      while (pendingBytes >= size) {
        const joined = join(pending, pendingBytes);
        yield joined.slice(0, size);
        yielded = true;
        pending = pendingBytes > size ? [joined.slice(size)] : [];
        pendingBytes -= size;
      }
    }
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  }
  if (pendingBytes > 0 || !yielded) yield join(pending, pendingBytes);
}

function join(chunks: readonly Uint8Array[], bytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(bytes);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Bytes `start`..`end` of a segmented body: only the segments holding them are read. */
export function segmentsRange(
  parts: (ReadableStream<Uint8Array> | null)[],
  lengths: readonly number[],
  start: number,
  end: number,
): ReadableStream<Uint8Array> {
  const needed: (ReadableStream<Uint8Array> | null)[] = [];
  let skip = 0;
  let offset = 0;
  parts.forEach((part, i) => {
    const first = offset;
    offset += lengths[i]!;
    if (offset <= start || first > end) return void part?.cancel();
    if (needed.length === 0) skip = start - first;
    needed.push(part);
  });
  return sliceBody(concat(needed), skip, skip + end - start);
}

/** One stream of several, in order; an error in any part errors the whole. */
export function concat(parts: (ReadableStream<Uint8Array> | null)[]): ReadableStream<Uint8Array> {
  let index = 0;
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  // highWaterMark 0: pulled only when read, so no part is touched before a reader asks (a
  // segmented entry's `range` may read the parts instead).
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          if (!reader) {
            const part = parts[index++];
            if (part === undefined) return controller.close();
            if (part === null) continue;
            reader = part.getReader();
          }
          const { done, value } = await reader.read();
          if (!done) return controller.enqueue(value);
          reader = null;
        }
      },
      async cancel(reason) {
        await reader?.cancel(reason);
        await Promise.all(parts.slice(index).map((part) => part?.cancel(reason)));
      },
    },
    { highWaterMark: 0 },
  );
}
