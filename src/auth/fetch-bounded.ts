/**
 * The one way the auth code fetches from an identity provider (JWKS, revocation list):
 * a deadline on the whole exchange, a byte cap on the body, redirects not followed, and
 * `If-None-Match` so an unchanged document costs a 304 (RFC 9110 §13.1.2).
 */

export interface BoundedFetchOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Sent as If-None-Match. */
  readonly etag?: string | null;
}

export type BoundedFetchResult = { readonly status: 200; readonly text: string; readonly etag: string | null } | { readonly status: 304 };

export type Fetcher = (request: Request) => Promise<Response>;

/**
 * Fetches `url`. Throws an `Error` whose message says what went wrong (timeout, status,
 * too large); never includes response bodies.
 */
export async function fetchBounded(
  url: string,
  options: BoundedFetchOptions,
  fetcher: Fetcher = (r) => fetch(r),
): Promise<BoundedFetchResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    const headers = new Headers({ accept: "application/json" });
    if (options.etag) headers.set("if-none-match", options.etag);
    const response = await fetcher(new Request(url, { headers, redirect: "manual", signal: controller.signal }));
    if (response.status === 304 && options.etag) {
      await response.body?.cancel();
      return { status: 304 };
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`status ${response.status}`);
    }
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > options.maxBytes) {
      await response.body?.cancel();
      throw new Error(`body of ${declared} bytes exceeds ${options.maxBytes}`);
    }
    const text = await readCapped(response, options.maxBytes);
    return { status: 200, text, etag: response.headers.get("etag") };
  } catch (error) {
    if (controller.signal.aborted) throw new Error(`no complete answer within ${options.timeoutMs} ms`);
    throw error instanceof Error ? error : new Error(String(error));
  } finally {
    clearTimeout(timer);
  }
}

export type StreamedFetchResult =
  | { readonly status: 200; readonly etag: string | null; readonly bytes: number; /** The sink asked to stop. */ readonly stopped: boolean }
  | { readonly status: 304 };

/**
 * `fetchBounded` for bodies too large to hold: each chunk goes to `sink` as it arrives (the
 * deadline and the byte cap cover the whole body); `sink` returns false to stop reading (the
 * rest is cancelled). Throws like `fetchBounded`, also when the body breaks off mid-stream.
 */
export async function fetchBoundedStream(
  url: string,
  options: BoundedFetchOptions,
  sink: (chunk: Uint8Array) => boolean,
  fetcher: Fetcher = (r) => fetch(r),
): Promise<StreamedFetchResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    const headers = new Headers({ accept: "application/json" });
    if (options.etag) headers.set("if-none-match", options.etag);
    const response = await fetcher(new Request(url, { headers, redirect: "manual", signal: controller.signal }));
    if (response.status === 304 && options.etag) {
      await response.body?.cancel();
      return { status: 304 };
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`status ${response.status}`);
    }
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > options.maxBytes) {
      await response.body?.cancel();
      throw new Error(`body of ${declared} bytes exceeds ${options.maxBytes}`);
    }
    const etag = response.headers.get("etag");
    if (!response.body) return { status: 200, etag, bytes: 0, stopped: false };
    const reader = response.body.getReader();
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { status: 200, etag, bytes, stopped: false };
      bytes += value.byteLength;
      if (bytes > options.maxBytes) {
        await reader.cancel();
        throw new Error(`body exceeds ${options.maxBytes} bytes`);
      }
      if (!sink(value)) {
        await reader.cancel();
        return { status: 200, etag, bytes, stopped: true };
      }
    }
  } catch (error) {
    if (controller.signal.aborted) throw new Error(`no complete answer within ${options.timeoutMs} ms`);
    throw error instanceof Error ? error : new Error(String(error));
  } finally {
    clearTimeout(timer);
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
}
