/**
 * Bytes served, counted without buffering: the `Content-Length` a response already carries, or,
 * only when it has none (a streamed or Brim-compressed body), a pass-through TransformStream that
 * adds up chunk sizes and reports once the body has been sent.
 */

/** Statuses whose responses carry no body (RFC 9110 §6.4.1, §15.3.5, §15.4.5). */
const BODYLESS_STATUSES: ReadonlySet<number> = new Set([101, 204, 205, 304]);
const DIGITS = /^\d+$/;

/** The body bytes the response will send when known up front; null when only streaming can tell. */
export function knownBytes(method: string, response: Response): number | null {
  if (method === "HEAD" || response.body === null || BODYLESS_STATUSES.has(response.status)) return 0;
  const length = response.headers.get("content-length");
  return length !== null && DIGITS.test(length) ? Number(length) : null;
}

/**
 * The response with its body counted as it streams; `report` runs once, with the total, when
 * the body has been read to its end (a client that goes away early reports nothing).
 * The response itself is the init, so status, headers and body encoding are kept as they are.
 */
export function countingResponse(response: Response, report: (bytes: number) => void): Response {
  if (response.body === null) return response;
  let sent = 0;
  const counted = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
      flush() {
        report(sent);
      },
    }),
  );
  return new Response(counted, response);
}
