/** The admin API's answers: one JSON shape for every refused request, `no-store` on all. */
import type { Context } from "hono";
import { errorResponse, type BrimErrorCode } from "../errors";

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

/** `{ "ok": false, "error": code, "problem": ... }` with the code's status. */
function jsonError(code: "ADMIN_BAD_REQUEST" | "ADMIN_BODY_TOO_LARGE", problem: string): Response {
  return jsonAnswer(errorResponse(code).status, { ok: false, error: code, problem });
}

/** A JSON answer of the admin and platform APIs: never stored by anyone. */
export function jsonAnswer(status: number, body: unknown, headers?: HeadersInit): Response {
  const all = new Headers(headers);
  all.set("content-type", "application/json");
  all.set("cache-control", "no-store");
  return new Response(`${JSON.stringify(body)}\n`, { status, headers: all });
}

/** `{ "ok": false, "error": code, ...fields }` with the code's status. */
export function jsonFailure(code: BrimErrorCode, fields: Record<string, unknown> = {}, headers?: HeadersInit): Response {
  return jsonAnswer(errorResponse(code).status, { ok: false, error: code, ...fields }, headers);
}
