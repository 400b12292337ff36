/** A tenant's `observability` block: opt-in per-request timing and log lines (src/stats/). */
import { z } from "zod";
import { expected, flag } from "./config-values";

export const observabilitySchema = z
  .strictObject(
    {
      serverTiming: flag("Add a Server-Timing header (auth, cache, origin durations) to this tenant's responses.", false),
      requestLog: flag("Write one JSON log line per request (tenant, route, status, cache status, origin ms) for Workers Logs.", false),
    },
    { error: expected("an observability object") },
  )
  .meta({ description: "Per-request timing header and log lines; both off by default." });
