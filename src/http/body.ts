/**
 * Origin bodies are untrusted framing. Every byte Brim reads from an origin passes through
 * `guardBody`, which turns each way a body can fail to arrive into a stream error: a reader
 * (the client, a cache write, a coalescing replay) never sees a clean end for a body the origin
 * did not finish sending. Cache writes commit only on a clean end (src/cache/store.ts), so
 * a fault here always means "nothing stored".
 */

/**
 * - `incomplete`: the connection closed or reset before the body ended, chunked framing was
 *   invalid or unterminated, or fewer / more bytes arrived than `Content-Length` said
 *   (RFC 9112 §6.3: an incomplete message).
 * - `idle-timeout`: no byte arrived for `bodyIdleTimeoutMs`.
 * - `decode-limit`: decoding an origin's Content-Encoding produced more than the route allows
 *   (absolute bytes or expansion ratio: a compression bomb).
 * - `undecodable`: the bytes are not valid for the Content-Encoding the origin declared.
 */
export type BodyFaultKind = "incomplete" | "idle-timeout" | "decode-limit" | "undecodable";

/** Stable log event name per fault (docs/caching.md "Integrity"). */
export const BODY_FAULT_EVENTS: Readonly<Record<BodyFaultKind, string>> = {
  incomplete: "origin-body-incomplete",
  "idle-timeout": "origin-body-idle-timeout",
  "decode-limit": "decode-limit-exceeded",
  undecodable: "origin-body-undecodable",
};

/** The error a guarded body fails with; readers can tell a fault from their own cancel. */
export class BodyFault extends Error {
  readonly kind: BodyFaultKind;
  constructor(kind: BodyFaultKind, detail: string) {
    super(`${kind}: ${detail}`);
    this.name = "BodyFault";
    this.kind = kind;
  }
}

export interface GuardOptions {
  /** The origin's Content-Length for these exact bytes, or null (chunked, close-delimited). */
  readonly expectedBytes: number | null;
  /** Longest wait between two reads before the body is abandoned. */
  readonly idleTimeoutMs: number;
  /** Told once, when the body faults (for the log and stats). */
  readonly onFault?: (fault: BodyFault) => void;
}

/**
 * Wraps an origin body: counts bytes, bounds the time between reads, and checks the count
 * against `expectedBytes` at the end. The source is read only when the consumer pulls, so
 * backpressure is kept; the idle clock runs only while a read is outstanding (a slow client
 * is not the origin's fault).
 */
export function guardBody(source: ReadableStream<Uint8Array>, options: GuardOptions): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let received = 0;
  let faulted = false;
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, fault: BodyFault): void => {
    if (faulted) return;
    faulted = true;
    options.onFault?.(fault);
    controller.error(fault);
    reader.cancel(fault).catch(() => {});
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const idle = new Promise<"idle">((resolve) => (timer = setTimeout(() => resolve("idle"), options.idleTimeoutMs)));
        try {
          const next = await Promise.race([reader.read(), idle]);
          if (next === "idle")
            return fail(controller, new BodyFault("idle-timeout", `no body bytes for ${options.idleTimeoutMs} ms after ${received} bytes`));
          if (next.done) {
            if (options.expectedBytes !== null && received !== options.expectedBytes) {
              return fail(controller, new BodyFault("incomplete", `ended after ${received} of ${options.expectedBytes} bytes`));
            }
            return controller.close();
          }
          received += next.value.byteLength;
          if (options.expectedBytes !== null && received > options.expectedBytes) {
            return fail(controller, new BodyFault("incomplete", `more than the ${options.expectedBytes} bytes of Content-Length`));
          }
          controller.enqueue(next.value);
        } catch (error) {
          fail(controller, error instanceof BodyFault ? error : new BodyFault("incomplete", `after ${received} bytes: ${String(error)}`));
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    // Pull one chunk at a time: the guard never reads ahead of its consumer.
    { highWaterMark: 0 },
  );
}

/** RFC 9110 §8.6: Content-Length = 1*DIGIT (at most 16 digits stays a safe integer). */
const CONTENT_LENGTH = /^\d{1,16}$/;

/** A Content-Length value as a byte count, or null when absent or not a single valid number. */
export function declaredLength(headers: Headers): number | null {
  const value = headers.get("content-length");
  if (value === null || !CONTENT_LENGTH.test(value.trim())) return null;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * A client body that keeps the response's own `Content-Length` on the wire (RFC 9111 §3.1: a
 * cache stores and forwards the header fields it received; RFC 9112 §6.3). The runtime sends a
 * plain stream chunked and drops the field, so a body of declared length goes through a
 * `FixedLengthStream`, which also refuses to end short or long. Bodies the runtime encodes on
 * the way out (`Content-Encoding` with `encodeBody: "automatic"`) have no known length.
 */
export function sizedBody(body: ReadableStream<Uint8Array> | null, headers: Headers, sentAsIs: boolean): ReadableStream<Uint8Array> | null {
  if (body === null || (!sentAsIs && headers.has("content-encoding"))) return body;
  const length = declaredLength(headers);
  return length === null ? body : body.pipeThrough(new FixedLengthStream(length));
}
