/**
 * The request log line (tenant `observability.requestLog`): one JSON object per logged request,
 * for Workers Logs (docs/operations.md "Request logs"). Which requests are logged: every error
 * (a 5xx answer, an origin failure answered from a stale copy), and of the rest a share
 * `sampleRate`, drawn from an injectable random source. Each line carries the rate it was
 * logged at, so counts can be weighted (1 / sampleRate).
 *
 * `bytes` is the response body as Brim hands it to the runtime: its Content-Length when the
 * response declares one; otherwise counted chunk by chunk as the body streams (never buffered)
 * and the line written when the body ends, with `aborted: true` if the client went away first.
 * A body the runtime compresses on the way out (`encodeBody: "automatic"`) is counted before
 * that compression.
 */
import type { CacheStatus } from "../http/cache-status";
import { declaredLength } from "../http/body";

/** A request log line before `bytes` is known. */
export interface RequestLogLine {
  readonly event: "request";
  /** `cf-ray` on Cloudflare (the id Cloudflare's own logs and the client's `cf-ray` response header carry); a random UUID elsewhere. */
  readonly requestId: string;
  readonly host: string;
  readonly tenant: string;
  readonly route: string;
  readonly method: string;
  /** Path and query, credential-like query values redacted (src/http/log-path.ts). */
  readonly path: string;
  readonly status: number;
  readonly cacheStatus: string | null;
  readonly originMs: number | null;
  readonly ms: number;
  /** The share of such requests logged: 1 for errors and unsampled tenants. */
  readonly sampleRate: number;
  /** Present (true) on lines logged because the request failed. */
  readonly error?: true;
}

/** Whether the request failed: a 5xx answer, or the origin failed and a stale copy was served instead. */
export function isFailure(status: number, cache: CacheStatus | null): boolean {
  return status >= 500 || (cache?.fwdStatus ?? 0) >= 500 || cache?.detail === "stale-if-error";
}

/** Whether to log this request: errors always; others with probability `sampleRate` (`random` in [0, 1)). */
export function sampled(failure: boolean, sampleRate: number, random: () => number): boolean {
  if (failure || sampleRate >= 1) return true;
  return sampleRate > 0 && random() < sampleRate;
}

/** A `cf-ray` value as Cloudflare sets it (hex id, "-", data center): anything else is not trusted as an id. */
const RAY = /^[0-9a-f]{8,32}(?:-[A-Za-z]{2,8})?$/i;

/** The request id: the `cf-ray` request header Cloudflare sets, or a fresh UUID (local runs, a malformed value). */
export function requestIdOf(headers: Headers): string {
  const ray = headers.get("cf-ray");
  return ray !== null && RAY.test(ray) ? ray : crypto.randomUUID();
}

/**
 * Writes `line` with `bytes` and returns the response to send: `response` itself when its
 * size is known now (Content-Length, no body, HEAD), else the same response over a counting
 * stream, the line written under `waitUntil` when the body ends.
 */
export function logWithBytes(
  response: Response,
  line: RequestLogLine,
  head: boolean,
  log: (event: Record<string, unknown>) => void,
  waitUntil: (promise: Promise<unknown>) => void,
): Response {
  const body = response.body;
  // HEAD: the router answers with the GET response's headers and drops its body after this runs.
  if (body === null || head || response.webSocket) {
    log({ ...line, bytes: 0 });
    return response;
  }
  const declared = declaredLength(response.headers);
  if (declared !== null) {
    log({ ...line, bytes: declared });
    return response;
  }
  let bytes = 0;
  // `flush` runs only when the body ended normally; a client that went away cancels the
  // readable side instead (and workerd may settle the pipe either way).
  let complete = false;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
    flush() {
      complete = true;
    },
  });
  const written = () => log(complete ? { ...line, bytes } : { ...line, bytes, aborted: true });
  waitUntil(body.pipeTo(counter.writable).then(written, written));
  // A Response as init copies status, headers and the body encoding (workerd's Response constructor).
  return new Response(counter.readable, response);
}
