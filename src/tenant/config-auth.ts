/**
 * The auth concern of the tenants file: a tenant's `auth` (how JWTs are verified, where keys
 * and revocations come from, what reaches the origin) and `admin` blocks, and the route-level
 * `auth` / `scopes` fields. Everything is checked here, at load; the request path never
 * re-validates.
 */
import { z } from "zod";
import {
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_JWKS_COOLDOWN_SECONDS,
  DEFAULT_JWKS_MAX_AGE_SECONDS,
  DEFAULT_MAX_TOKEN_BYTES,
  DEFAULT_REVOCATION_MAX_STALE_SECONDS,
  DEFAULT_REVOCATION_REFRESH_SECONDS,
  MAX_CLOCK_SKEW_SECONDS,
  MAX_TOKEN_LIFETIME_SECONDS,
} from "../constants";
import type { KeySource, TenantAuth } from "./types";
import { expected, flag, intRange, isRecord, show } from "./config-values";

/** JWS algorithms Brim verifies (RFC 7518 §3.1, RFC 8037 §3.1). "none" is never one of them. */
export const ASYMMETRIC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;
export const HMAC_ALGORITHMS = ["HS256", "HS384", "HS512"] as const;
const KNOWN_ALGORITHMS = new Set<string>([...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS]);
const HMAC = new Set<string>(HMAC_ALGORITHMS);
const DEFAULT_ASYMMETRIC = ["RS256", "ES256", "EdDSA"];
const DEFAULT_HMAC = ["HS256"];

/** RFC 9110 §5.6.2 token: the characters a field name may use. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A Worker secret / var name as wrangler accepts it. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** RFC 6749 §3.3 scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** RFC 6265 §4.1.1 cookie-name (a token). */
const COOKIE_NAME = TOKEN;
/** Headers a forwarded claim must not overwrite: credentials, routing and hop-by-hop fields. */
const RESERVED_HEADERS =
  /^(?:authorization|proxy-authorization|cookie|host|connection|content-length|transfer-encoding|te|upgrade|forwarded|x-forwarded-.*)$/i;
/** JWK members that only private or symmetric keys have (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const HTTP_URL = /^https?:\/\//i;
/** Hosts whose traffic never leaves the machine: `localhost`, 127.0.0.0/8, `[::1]`. */
const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;
const MAX_REFRESH_SECONDS = 86_400;

function custom(ctx: z.RefinementCtx, message: string, path: PropertyKey[] = []): void {
  ctx.addIssue({ code: "custom", message, path });
}

/**
 * Where keys or revocations come from. `https://` only (RFC 8725 §3.8 / RFC 7517 §8: whoever
 * can rewrite the document can mint or un-revoke tokens), except for loopback hosts, which
 * never leave the machine (local development, tests).
 */
function urlSchema(description: string) {
  return z
    .string({ error: expected("an https URL") })
    .superRefine((text, ctx) => {
      const url = HTTP_URL.test(text) && URL.canParse(text) ? new URL(text) : null;
      if (!url || url.hostname === "") custom(ctx, `expected an http(s) URL, got ${show(text)}`);
      else if (url.username !== "" || url.password !== "") custom(ctx, "a URL in config must not contain credentials");
      else if (url.protocol !== "https:" && !LOOPBACK_HOST.test(url.hostname)) {
        custom(ctx, `expected an https:// URL (http:// only for loopback hosts), got ${show(text)}`);
      }
    })
    .meta({ description: `${description} https:// only, except for loopback hosts.` });
}

/**
 * A Worker secret a tenant names. `BRIM_` names are the platform's own (BRIM_PLATFORM_TOKEN):
 * a tenant naming one would make the platform's secret its admin token or HMAC key.
 */
const envName = (what: string) =>
  z
    .string({ error: expected(what) })
    .regex(ENV_NAME, { error: expected(`${what} (letters, digits and "_")`) })
    .superRefine((name, ctx) => {
      if (/^BRIM_/i.test(name)) custom(ctx, `${show(name)} is reserved for Brim's own secrets (names starting with "BRIM_")`);
    });

const headerName = z
  .string({ error: expected("a header name") })
  .regex(TOKEN, { error: expected("a header name (RFC 9110 token characters)") })
  .superRefine((name, ctx) => {
    if (RESERVED_HEADERS.test(name)) custom(ctx, `header ${show(name)} is reserved: a claim cannot be forwarded in it`);
  });

const jwkSchema = z
  .looseObject(
    {
      kty: z
        .string({ error: expected('"RSA", "EC" or "OKP"') })
        .meta({ description: 'Key type: "RSA", "EC" or "OKP" (public keys only; HMAC secrets go in a Worker secret).' }),
    },
    { error: expected("a JWK object") },
  )
  .superRefine((jwk, ctx) => {
    if (jwk.kty === "oct")
      custom(ctx, 'HMAC keys must not be inline: put the secret in a Worker secret and name it in "secretEnv"', ["kty"]);
    else if (!["RSA", "EC", "OKP"].includes(jwk.kty)) custom(ctx, `expected "RSA", "EC" or "OKP", got ${show(jwk.kty)}`, ["kty"]);
    for (const member of PRIVATE_JWK_MEMBERS) {
      if (member in jwk && jwk.kty !== "oct")
        custom(ctx, `a private key member must never be in config; give the public key only`, [member]);
    }
  })
  .meta({ description: "A public JWK (RFC 7517); HMAC and private keys are refused." });

const revocationSchema = z
  .strictObject(
    {
      url: urlSchema('Where the revocation list is published: { "jti": [...], "sub": { "<sub>": <unix seconds> } }.'),
      refreshSeconds: intRange(1, MAX_REFRESH_SECONDS, `an integer from 1 to ${MAX_REFRESH_SECONDS}`)
        .default(DEFAULT_REVOCATION_REFRESH_SECONDS)
        .meta({ description: "How often the list is fetched, once for the whole deployment." }),
      maxStaleSeconds: intRange(1, 7 * MAX_REFRESH_SECONDS, "a positive integer (seconds)")
        .default(DEFAULT_REVOCATION_MAX_STALE_SECONDS)
        .meta({ description: "Oldest list still trusted when refreshes fail; then onStale applies." }),
      onStale: z
        .enum(["deny", "allow"], { error: expected('"deny" or "allow"') })
        .default("deny")
        .meta({ description: 'Past maxStaleSeconds: "deny" answers 503 with Retry-After; "allow" lets tokens through and logs.' }),
    },
    { error: expected("a revocation object") },
  )
  .superRefine((value, ctx) => {
    if (value.maxStaleSeconds < value.refreshSeconds) {
      custom(ctx, `maxStaleSeconds (${value.maxStaleSeconds}) must be at least refreshSeconds (${value.refreshSeconds})`, [
        "maxStaleSeconds",
      ]);
    }
  });

const forwardSchema = z.strictObject(
  {
    claims: z
      .record(z.string().min(1, { error: "expected a claim name" }), headerName, { error: expected("an object of claim → header name") })
      .default({})
      .meta({ description: "Verified claims sent to the origin as request headers; client-sent copies are always removed." }),
    stripAuthorization: flag("Remove the token (header or cookie) before the origin.", false),
  },
  { error: expected("a forward object") },
);

const tokenSchema = z.strictObject(
  {
    header: z
      .string({ error: expected("a header name") })
      .regex(TOKEN, { error: expected("a header name (RFC 9110 token characters)") })
      .default("authorization")
      .meta({ description: 'Header carrying "Bearer <token>" (RFC 6750 §2.1).' }),
    cookie: z
      .string({ error: expected("a cookie name") })
      .regex(COOKIE_NAME, { error: expected("a cookie name") })
      .optional()
      .meta({ description: "Cookie carrying the token, tried when the header is absent." }),
  },
  { error: expected("a token object") },
);

/** A tenant's `auth` block. */
export const tenantAuthSchema = z
  .strictObject(
    {
      issuer: z
        .string({ error: expected("an issuer string") })
        .min(1, { error: "expected a non-empty issuer" })
        .meta({ description: 'Required "iss".' }),
      audience: z
        .union(
          [
            z.string().min(1).meta({ description: "One accepted audience." }),
            z.array(z.string().min(1)).min(1).meta({ description: "Accepted audiences; a token must name at least one." }),
          ],
          { error: expected("an audience or a non-empty list of audiences") },
        )
        .meta({ description: 'The token\'s "aud" must contain one of these.' }),
      jwksUrl: urlSchema("JWKS (RFC 7517 §5) of the issuer; cached per isolate and refreshed in the background.").optional(),
      keys: z
        .array(jwkSchema, { error: expected("a list of JWKs") })
        .min(1, { error: "expected at least one key" })
        .optional(),
      secretEnv: envName("a Worker secret name")
        .optional()
        .meta({ description: "Worker secret holding the HMAC key (HS* algorithms only)." }),
      algorithms: z
        .array(z.string({ error: expected("an algorithm name") }), { error: expected("a list of algorithm names") })
        .min(1, { error: "expected at least one algorithm" })
        .optional()
        .meta({ description: 'Accepted JWS "alg" values. Default: RS256, ES256, EdDSA (keys) or HS256 (secretEnv).' }),
      clockSkewSeconds: intRange(0, MAX_CLOCK_SKEW_SECONDS, `an integer from 0 to ${MAX_CLOCK_SKEW_SECONDS}`)
        .default(DEFAULT_CLOCK_SKEW_SECONDS)
        .meta({ description: "Leeway for exp, nbf and iat." }),
      typ: z
        .string({ error: expected("a typ string") })
        .min(1)
        .optional()
        .meta({
          description:
            'Required JOSE "typ" header, e.g. "at+jwt". Default: absent, "JWT" or "at+jwt"; any other typ (secevent+jwt, logout+jwt, dpop+jwt, ...) is refused.',
        }),
      maxTokenLifetimeSeconds: intRange(1, MAX_TOKEN_LIFETIME_SECONDS, `an integer from 1 to ${MAX_TOKEN_LIFETIME_SECONDS}`)
        .optional()
        .meta({ description: 'Longest accepted token lifetime (exp - iat); tokens without "iat" are then refused. Default: no limit.' }),
      maxTokenBytes: intRange(64, 65_536, "an integer from 64 to 65536")
        .default(DEFAULT_MAX_TOKEN_BYTES)
        .meta({ description: "Longer tokens are refused before any decoding (a cheap guard against oversized input)." }),
      jwksMaxAgeSeconds: intRange(1, MAX_REFRESH_SECONDS, `an integer from 1 to ${MAX_REFRESH_SECONDS}`)
        .default(DEFAULT_JWKS_MAX_AGE_SECONDS)
        .meta({
          description:
            "A JWKS older than this is refetched before use; also caps how long a verified token is remembered, so a removed kid stops admitting tokens within this bound.",
        }),
      jwksCooldownSeconds: intRange(1, MAX_REFRESH_SECONDS, `an integer from 1 to ${MAX_REFRESH_SECONDS}`)
        .default(DEFAULT_JWKS_COOLDOWN_SECONDS)
        .meta({ description: "At most one JWKS refetch for an unknown kid per this many seconds." }),
      token: tokenSchema.prefault({}).meta({
        description: "Where the token is read from: a header (Bearer scheme) and optionally a cookie; one credential per request.",
      }),
      revocation: revocationSchema
        .optional()
        .meta({ description: "A revocation list refreshed in the background from the tenant's service; revoked jti / sub are refused." }),
      forward: forwardSchema.prefault({}).meta({
        description: "What the origin receives about the verified token: claims as headers, and whether the token itself is forwarded.",
      }),
    },
    { error: expected("an auth object") },
  )
  .superRefine(checkKeySource, { when: (payload) => isRecord(payload.value) })
  .meta({ description: "JWT verification for this tenant's routes that set auth." });

/** A tenant's `admin` block: the Worker secret holding the token for `/__brim/*`. */
export const adminSchema = z
  .strictObject(
    { tokenEnv: envName("a Worker secret name").meta({ description: "Worker secret holding the admin bearer token." }) },
    { error: expected("an admin object") },
  )
  .meta({ description: "Admin endpoints under /__brim/ (immediate revocation)." });

/** Route-level `auth`. */
export const routeAuthSchema = z
  .enum(["required", "optional", "none"], { error: expected('"required", "optional" or "none"') })
  .default("none")
  .meta({ description: "Token verification for this route (needs the tenant's auth block)." });

/** Route-level `scopes`. */
export const routeScopesSchema = z
  .array(z.string({ error: expected("a scope") }).regex(SCOPE_TOKEN, { error: expected("a scope (RFC 6749 §3.3)") }), {
    error: expected("a list of scopes"),
  })
  .optional()
  .meta({ description: 'Scopes the token must all carry ("scope" or "scp" claim); needs auth "required".' });

export type TenantAuthConfig = z.output<typeof tenantAuthSchema>;

/** Builds the normalized, fully defaulted tenant auth. */
export function toTenantAuth(auth: TenantAuthConfig): TenantAuth {
  const keys: KeySource =
    auth.jwksUrl !== undefined
      ? { kind: "jwks", url: auth.jwksUrl, maxAgeSeconds: auth.jwksMaxAgeSeconds, cooldownSeconds: auth.jwksCooldownSeconds }
      : auth.keys !== undefined
        ? { kind: "static", keys: auth.keys.map((k) => ({ ...k }) as JsonWebKey) }
        : { kind: "secret", env: auth.secretEnv ?? "" };
  return {
    issuer: auth.issuer,
    audience: typeof auth.audience === "string" ? [auth.audience] : [...auth.audience],
    keys,
    algorithms: [...(auth.algorithms ?? (keys.kind === "secret" ? DEFAULT_HMAC : DEFAULT_ASYMMETRIC))],
    clockSkewSeconds: auth.clockSkewSeconds,
    typ: auth.typ ?? null,
    maxTokenLifetimeSeconds: auth.maxTokenLifetimeSeconds ?? null,
    maxTokenBytes: auth.maxTokenBytes,
    token: { header: auth.token.header.toLowerCase(), cookie: auth.token.cookie ?? null },
    revocation: auth.revocation ? { ...auth.revocation } : null,
    forward: {
      claims: Object.entries(auth.forward.claims).map(([claim, header]) => ({ claim, header: header.toLowerCase() })),
      stripAuthorization: auth.forward.stripAuthorization,
    },
  };
}

/**
 * Exactly one key source; algorithms known, never "none", and matching the source: an HMAC
 * algorithm only with `secretEnv`, so a public key can never be used as an HMAC secret
 * (the classic RS256 → HS256 confusion).
 */
function checkKeySource(value: unknown, ctx: z.RefinementCtx): void {
  if (!isRecord(value)) return;
  const sources = ["jwksUrl", "keys", "secretEnv"].filter((k) => value[k] !== undefined);
  if (sources.length === 0) custom(ctx, 'no key source: give one of "jwksUrl", "keys" or "secretEnv"');
  if (sources.length > 1) custom(ctx, `give only one key source, got ${sources.join(" and ")}`);
  if (!Array.isArray(value.algorithms)) return;
  const secret = value.secretEnv !== undefined;
  value.algorithms.forEach((alg: unknown, i: number) => {
    if (typeof alg !== "string") return;
    if (alg.toLowerCase() === "none") custom(ctx, '"none" is never accepted: unsigned tokens prove nothing', ["algorithms", i]);
    else if (!KNOWN_ALGORITHMS.has(alg))
      custom(ctx, `unknown algorithm ${show(alg)}; expected one of ${[...KNOWN_ALGORITHMS].join(", ")}`, ["algorithms", i]);
    else if (HMAC.has(alg) && !secret && sources.length > 0)
      custom(ctx, `${show(alg)} is an HMAC algorithm: it needs "secretEnv", not a JWKS or public keys`, ["algorithms", i]);
    else if (!HMAC.has(alg) && secret)
      custom(ctx, `${show(alg)} needs public keys ("jwksUrl" or "keys"), not an HMAC secret`, ["algorithms", i]);
  });
}
