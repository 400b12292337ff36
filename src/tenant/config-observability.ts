/** A tenant's `observability` block: opt-in per-request timing and log lines (src/stats/). */
import { z } from "zod";
import { expected, flag } from "./config-values";

const sampleRate = z
  .number({ error: expected("a number from 0 to 1") })
  .min(0, { error: expected("a number from 0 to 1") })
  .max(1, { error: expected("a number from 0 to 1") })
  .meta({
    description:
      "Share of requests logged, from 0 to 1 (0.01: one in a hundred). Errors (5xx answers, origin failures, stale-if-error) are always logged.",
  });

const requestLogObject = z.strictObject({ sampleRate }, { error: expected("true, false or { sampleRate }") });

export const observabilitySchema = z
  .strictObject(
    {
      serverTiming: flag("Add a Server-Timing header (auth, cache, origin durations) to this tenant's responses.", false),
      requestLog: z
        .union([z.boolean(), requestLogObject], { error: expected("true, false or { sampleRate }") })
        .default(false)
        .meta({
          description:
            "One JSON log line per request (host, method, path with credential-like query values redacted, status, cache status, origin ms, bytes, request id) for Workers Logs: true logs every request; { sampleRate } a share of them, plus every error.",
        }),
    },
    { error: expected("an observability object") },
  )
  .meta({ description: "Per-request timing header and log lines; both off by default." });

/** The normalized `requestLog`: null when off; otherwise the share of non-error requests logged. */
export function requestLogOf(value: boolean | { readonly sampleRate: number }): { readonly sampleRate: number } | null {
  if (value === false) return null;
  return value === true ? { sampleRate: 1 } : { sampleRate: value.sampleRate };
}
