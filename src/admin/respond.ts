/** The admin API's answers: one JSON shape for every refused request, `no-store` on all. */
import type { Context } from "hono";
import { errorResponse } from "../errors";

/**
 * `400` naming the problem (the caller's own input, safe to echo; nothing secret is in it):
 * `{ "ok": false, "error": "ADMIN_BAD_REQUEST", "problem": "..." }`.
 */
export function badRequest(problem: string): Response {
  return jsonError("ADMIN_BAD_REQUEST", problem);
}

/** `413` for a body past ADMIN_MAX_BODY_BYTES, in the same shape (hono/body-limit's `onError`). */
export function bodyTooLarge(maxBytes: number): (c: Context) => Response {
  return function bodyTooLarge() {
    return jsonError("ADMIN_BODY_TOO_LARGE", `body exceeds ${maxBytes} bytes`);
  };
}

function jsonError(code: "ADMIN_BAD_REQUEST" | "ADMIN_BODY_TOO_LARGE", problem: string): Response {
  const { status } = errorResponse(code);
  return new Response(`${JSON.stringify({ ok: false, error: code, problem })}\n`, {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}
