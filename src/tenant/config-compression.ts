/** A route's `compression` block: which codings Brim may produce, and for what. */
import { z } from "zod";
import { DEFAULT_COMPRESSION_MIN_BYTES } from "../constants";
import { DEFAULT_COMPRESSIBLE_TYPES } from "../constants";
import type { CompressionPolicy } from "./types";
import { expected, intRange, reportDuplicates } from "./config-values";

const CODINGS = ["br", "gzip", "zstd"] as const;
/** zstd is opt-in (docs/compression.md): listed, it is produced for clients that prefer it. */
const DEFAULT_ENCODINGS: CompressionPolicy["encodings"] = ["br", "gzip"];

/** `type/subtype`, `type/*` or `type/*+suffix`, lower-case. */
const TYPE_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/(?:\*(?:\+[a-z0-9!#$&^_.-]+)?|[a-z0-9][a-z0-9!#$&^_.+-]*)$/;

const codingSchema = z.enum(CODINGS, { error: expected('"br", "gzip" or "zstd"') });

const compressionObject = z.strictObject(
  {
    encodings: z
      .array(codingSchema, { error: expected('a list of "br", "gzip", "zstd"') })
      .min(1, { error: "expected at least one coding; use compression: false to turn compression off" })
      .superRefine((names, ctx) => reportDuplicates(names, ctx, "coding", "encodings"))
      .optional()
      .meta({ description: "Codings Brim may produce (br, gzip, zstd), in preference order at equal client quality. Default: br, gzip." }),
    minBytes: intRange(0, Number.MAX_SAFE_INTEGER, "a non-negative integer (bytes)")
      .default(DEFAULT_COMPRESSION_MIN_BYTES)
      .meta({ description: "Bodies smaller than this (by Content-Length) are not compressed." }),
    types: z
      .array(
        z
          .string({ error: expected("a media type") })
          .regex(TYPE_PATTERN, { error: expected('a lower-case media type like "text/*" or "application/*+json"') }),
        {
          error: expected("a list of media types"),
        },
      )
      .optional()
      .meta({ description: "Content types to compress: exact, type/* or type/*+suffix. Default: text, JSON, JavaScript, XML, SVG." }),
  },
  { error: expected("false or a compression object") },
);

/** `false`, or an object (omitted means the defaults). */
export const compressionSchema = z
  .union([z.literal(false), compressionObject], { error: expected("false or a compression object") })
  .prefault({})
  .meta({
    description:
      "Response compression (Brotli, gzip, zstd), paid once per cached variant; false turns it off (consider it for responses that mix secrets with reflected input: BREACH).",
  });

export type CompressionConfig = z.output<typeof compressionSchema>;

export function toCompressionPolicy(config: CompressionConfig): CompressionPolicy | null {
  if (config === false) return null;
  return {
    encodings: config.encodings ? [...config.encodings] : DEFAULT_ENCODINGS,
    minBytes: config.minBytes,
    types: config.types ?? DEFAULT_COMPRESSIBLE_TYPES,
  };
}
