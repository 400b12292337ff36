import type { CompressionPolicy } from "../tenant/types";
import type { Chosen } from "../http/accept-encoding";
import { compressStream } from "./codec";
import { acceptsAll, decodeBody, originCodings, type DecodeLimits } from "./decode";
import { shouldCompress } from "./policy";

export type Representation =
  | {
      readonly kind: "ok";
      readonly response: Response;
      /** The body bytes are really encoded as Content-Encoding says: send with `encodeBody: "manual"`. */
      readonly encoded: boolean;
      /** The response depends on Accept-Encoding (Vary added, ETag adjusted). */
      readonly negotiated: boolean;
    }
  /**
   * The origin used a coding Brim cannot decode: never stored; sent as it is only to a client
   * that accepts every listed coding, otherwise `502` (RFC 9110 §8.4: never send a coding the
   * client did not accept).
   */
  | { readonly kind: "opaque"; readonly codings: readonly string[] };

export interface RepresentOptions {
  readonly chosen: Chosen;
  readonly policy: CompressionPolicy;
  /** Bounds on decoding an origin-encoded body (decompression bombs). */
  readonly limits: DecodeLimits;
  /**
   * Called only when Brim compresses the body itself: a stream put in front of the compressor,
   * which sees the identity bytes (src/compress/recompress.ts keeps them for the second pass).
   */
  readonly tap?: () => TransformStream<Uint8Array, Uint8Array>;
}

/**
 * Turns an origin response (exact bytes, see src/origin/fetch.ts) into what a client that
 * negotiated `chosen` gets on a compressing route: the origin's bytes untouched when it already
 * used `chosen`; otherwise decoded (within `limits`) and compressed with `chosen` when that
 * helps; `Vary: Accept-Encoding` on every negotiable response and a weak ETag on encoded ones
 * (RFC 9110 §8.8.3: a strong validator names exact bytes).
 */
export function represent(response: Response, options: RepresentOptions): Representation {
  const headers = new Headers(response.headers);
  const origin = originCodings(headers);
  let body = response.body;

  switch (origin.kind) {
    case "unknown":
      return { kind: "opaque", codings: origin.codings };
    case "known": {
      const only = origin.codings.length === 1 ? origin.codings[0] : undefined;
      if (only !== undefined && only === options.chosen) {
        // Already what the client wants: pass the origin's bytes through, decoded by no one.
        headers.set("content-encoding", only);
        addVary(headers, "accept-encoding");
        weakenEtag(headers);
        return { kind: "ok", response: rebuild(response, headers, body), encoded: true, negotiated: true };
      }
      if (body) body = decodeBody(body, origin.codings, options.limits);
      headers.delete("content-encoding");
      headers.delete("content-length");
      break;
    }
    case "identity":
      break;
  }

  if (!shouldCompress(response.status, headers, options.policy)) {
    return { kind: "ok", response: rebuild(response, headers, body), encoded: false, negotiated: false };
  }
  addVary(headers, "accept-encoding");
  if (options.chosen === "identity" || !body) {
    return { kind: "ok", response: rebuild(response, headers, body), encoded: false, negotiated: true };
  }
  headers.set("content-encoding", options.chosen);
  headers.delete("content-length");
  weakenEtag(headers);
  const identity = options.tap ? body.pipeThrough(options.tap()) : body;
  return {
    kind: "ok",
    response: rebuild(response, headers, identity.pipeThrough(compressStream(options.chosen))),
    encoded: true,
    negotiated: true,
  };
}

/** Codings the runtime can produce on the way out (`encodeBody: "automatic"`). */
const RUNTIME_ENCODES = new Set(["gzip", "br"]);

/**
 * A route that does not compress, storing: the origin's body decoded to identity bytes (within
 * `limits`), so one entry serves every client. A single gzip or br keeps its Content-Encoding
 * with `encoded: false`: the runtime re-encodes on the way out for clients that accept it, and
 * `acceptable` (below) drops the header for those that do not.
 */
export function decodedForStore(response: Response, limits: DecodeLimits): Representation {
  const headers = new Headers(response.headers);
  const origin = originCodings(headers);
  switch (origin.kind) {
    case "identity":
      return { kind: "ok", response, encoded: false, negotiated: false };
    case "unknown":
      return { kind: "opaque", codings: origin.codings };
    case "known": {
      const body = response.body ? decodeBody(response.body, origin.codings, limits) : null;
      headers.delete("content-length");
      const only = origin.codings.length === 1 ? origin.codings[0]! : null;
      if (only !== null && RUNTIME_ENCODES.has(only)) headers.set("content-encoding", only);
      else headers.delete("content-encoding");
      return { kind: "ok", response: rebuild(response, headers, body), encoded: false, negotiated: false };
    }
  }
}

/**
 * A proxied (uncached) response on a route that does not compress: the origin's bytes as they
 * are when the client accepts every coding; decoded (within `limits`) when it does not.
 */
export function forClient(response: Response, acceptEncoding: string | null, limits: DecodeLimits): Representation {
  const origin = originCodings(response.headers);
  switch (origin.kind) {
    case "identity":
      return { kind: "ok", response, encoded: false, negotiated: false };
    case "unknown":
      return acceptsAll(acceptEncoding, origin.codings)
        ? { kind: "ok", response, encoded: true, negotiated: false }
        : { kind: "opaque", codings: origin.codings };
    case "known": {
      if (
        acceptsAll(
          acceptEncoding,
          response.headers
            .get("content-encoding")!
            .split(",")
            .map((c) => c.trim().toLowerCase())
            .filter((c) => c && c !== "identity"),
        )
      ) {
        return { kind: "ok", response, encoded: true, negotiated: false };
      }
      const headers = new Headers(response.headers);
      headers.delete("content-encoding");
      headers.delete("content-length");
      const body = response.body ? decodeBody(response.body, origin.codings, limits) : null;
      return { kind: "ok", response: rebuild(response, headers, body), encoded: false, negotiated: false };
    }
  }
}

/**
 * A stored identity body whose Content-Encoding the runtime applies on the way out
 * (`encoded: false`): keep the header only for clients that accept that coding, so a client is
 * never sent a coding it did not accept (RFC 9110 §12.5.3).
 */
export function acceptableHeaders(headers: Headers, encoded: boolean, acceptEncoding: string | null): Headers {
  if (encoded) return headers;
  const coding = headers.get("content-encoding");
  if (coding !== null && !acceptsAll(acceptEncoding, [coding.trim().toLowerCase()])) headers.delete("content-encoding");
  return headers;
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
