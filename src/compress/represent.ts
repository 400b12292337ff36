import type { CompressionPolicy } from "../tenant/types";
import type { Chosen, Coding } from "./accept-encoding";
import { compressStream, decompressStream } from "./codec";
import { shouldCompress } from "./policy";

/**
 * Codings workerd's `fetch` already decodes while leaving the Content-Encoding header in place
 * (observed in workerd: gzip and br bodies arrive decoded, zstd and deflate do not).
 */
const DECODED_BY_RUNTIME = new Set(["gzip", "br", "x-gzip"]);
/** Codings Brim can decode itself when the client does not accept them. */
const DECODABLE = new Set<string>(["zstd", "deflate"]);

export interface Representation {
  readonly response: Response;
  /** The body bytes are really encoded as Content-Encoding says: send with `encodeBody: "manual"`. */
  readonly encoded: boolean;
  /** The response depends on Accept-Encoding (Vary added, ETag adjusted). */
  readonly negotiated: boolean;
}

export interface RepresentOptions {
  readonly chosen: Chosen;
  readonly policy: CompressionPolicy;
  /** Cap on bytes Brim will decode from an origin-encoded body (decompression bombs). */
  readonly maxDecodedBytes: number;
}

/**
 * Turns a response as the runtime hands it over into what a client that negotiated `chosen`
 * gets: decoded when the origin encoded it in a way the client did not ask for, compressed
 * with `chosen` when that helps, with `Vary: Accept-Encoding` on every negotiable response
 * and a weak ETag on compressed ones (RFC 9110 §8.8.3: a strong validator names exact bytes).
 */
export function represent(response: Response, options: RepresentOptions): Representation {
  const headers = new Headers(response.headers);
  const originCoding = headers.get("content-encoding")?.trim().toLowerCase() ?? "";
  let body = response.body;

  if (originCoding && !DECODED_BY_RUNTIME.has(originCoding)) {
    if (!DECODABLE.has(originCoding) || !body) {
      // Nobody here can decode it: pass the bytes through as the origin chose, as a variant of
      // its own so the client's coding choice still separates entries.
      addVary(headers, "accept-encoding");
      return { response: rebuild(response, headers, body), encoded: true, negotiated: true };
    }
    body = body.pipeThrough(decompressStream(originCoding as Coding | "deflate", options.maxDecodedBytes));
    headers.delete("content-encoding");
    headers.delete("content-length");
  } else if (originCoding) {
    // Already decoded by the runtime: the header is stale, the length is the encoded one.
    headers.delete("content-encoding");
    headers.delete("content-length");
  }

  if (!shouldCompress(response.status, headers, options.policy)) {
    return { response: rebuild(response, headers, body), encoded: false, negotiated: false };
  }
  addVary(headers, "accept-encoding");
  if (options.chosen === "identity" || !body) {
    return { response: rebuild(response, headers, body), encoded: false, negotiated: true };
  }
  if (options.chosen === "zstd") {
    // Not produced (see PRODUCED_CODINGS); config refuses it, so this is only a safety net.
    return { response: rebuild(response, headers, body), encoded: false, negotiated: true };
  }
  headers.set("content-encoding", options.chosen);
  headers.delete("content-length");
  weakenEtag(headers);
  return { response: rebuild(response, headers, body.pipeThrough(compressStream(options.chosen))), encoded: true, negotiated: true };
}

function rebuild(response: Response, headers: Headers, body: ReadableStream<Uint8Array> | null): Response {
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

export function addVary(headers: Headers, name: string): void {
  const vary = headers.get("vary");
  if (!vary) return void headers.set("vary", name);
  const names = vary.split(",").map((v) => v.trim().toLowerCase());
  if (!names.includes(name) && !names.includes("*")) headers.set("vary", `${vary}, ${name}`);
}

export function weakenEtag(headers: Headers): void {
  const etag = headers.get("etag");
  if (etag && !etag.startsWith("W/")) headers.set("etag", `W/${etag}`);
}
