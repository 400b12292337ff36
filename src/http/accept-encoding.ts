/** Content codings Brim can produce, in its order of preference at equal quality. */
export type Coding = "br" | "zstd" | "gzip";
export type Chosen = Coding | "identity";

export const ALL_CODINGS: readonly Coding[] = ["br", "zstd", "gzip"];

/** Longer headers are cut here: real browsers send < 100 bytes, and parsing stays cheap. */
const MAX_HEADER_CHARS = 4096;

/** RFC 9110 §12.4.2 qvalue: "0" or "1" with up to three decimals, or "0." digits. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** RFC 9110 §8.4.1.1, §8.4.1.3: `x-compress` and `x-gzip` are `compress` and `gzip`. */
const ALIASES: ReadonlyMap<string, string> = new Map([
  ["x-gzip", "gzip"],
  ["x-compress", "compress"],
]);

/** A lower-cased coding name with the RFC 9110 §8.4.1 aliases resolved. */
export function canonicalCoding(name: string): string {
  return ALIASES.get(name) ?? name;
}

/**
 * Parses Accept-Encoding (RFC 9110 §12.5.3) into coding → quality. Names are lower-cased and
 * aliases resolved (`x-gzip` counts as `gzip`, RFC 9110 §8.4.1.3);
 * members that do not parse (bad token, bad q) are skipped, so garbage only narrows the
 * choice. For a repeated coding the first member wins. Never throws.
 */
export function parseAcceptEncoding(header: string): Map<string, number> {
  const weights = new Map<string, number>();
  for (const member of header.slice(0, MAX_HEADER_CHARS).split(",")) {
    const [rawName = "", ...params] = member.split(";");
    const name = canonicalCoding(rawName.trim().toLowerCase());
    if (!TOKEN.test(name) || weights.has(name)) continue;
    let q = 1;
    let valid = true;
    for (const param of params) {
      const eq = param.indexOf("=");
      if (eq === -1) continue;
      if (param.slice(0, eq).trim().toLowerCase() !== "q") continue;
      const value = param.slice(eq + 1).trim();
      if (!QVALUE.test(value)) valid = false;
      else q = Number(value);
    }
    if (valid) weights.set(name, q);
  }
  return weights;
}

/**
 * Chooses the coding for a response among `allowed` (in preference order). Highest quality
 * wins; at equal quality the server's order decides, and a coding beats identity. Without an
 * Accept-Encoding header Brim sends identity (RFC 9110 allows any coding, but clients that
 * send none, such as plain curl, rarely decode). When identity is refused too and nothing
 * else is acceptable, Brim disregards the header and sends identity, as RFC 9110 §12.5.3
 * permits, rather than answering 406.
 */
export function negotiateEncoding(header: string | null, allowed: readonly Coding[]): Chosen {
  if (header === null) return "identity";
  const weights = parseAcceptEncoding(header);
  const star = weights.get("*");
  // Unlisted codings are acceptable only through "*"; identity is acceptable unless excluded
  // (RFC 9110 §12.5.3) but, when not listed, ranks below any listed coding: clients that list
  // codings want them, whatever their q.
  const identityQ = weights.get("identity") ?? star ?? 0;
  let best: Coding | null = null;
  let bestQ = 0;
  for (const coding of allowed) {
    const q = weights.get(coding) ?? star ?? 0;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  if (best !== null && bestQ >= identityQ) return best;
  return "identity";
}

/**
 * The client's own Accept-Encoding. On Cloudflare (and under `wrangler dev`) a Worker sees a
 * normalised `Accept-Encoding: br, gzip` whatever the client sent, and the edge re-encodes
 * br/gzip responses for the client afterwards; the real header is `request.cf.clientAcceptEncoding`.
 */
export function clientAcceptEncoding(request: Request): string | null {
  const cf = (request as Request & { cf?: { clientAcceptEncoding?: unknown } }).cf;
  return typeof cf?.clientAcceptEncoding === "string" ? cf.clientAcceptEncoding : request.headers.get("accept-encoding");
}
