/**
 * What a route `path` may be: a Hono pattern restricted to the forms Brim documents, so a
 * typo fails at startup instead of silently matching nothing (or everything).
 */
import { PatternRouter } from "hono/router/pattern-router";
import { show } from "./config-values";

/** `:name` or `:name{regex}`; the regex may hold `{n,m}` quantifiers one level deep. */
const PARAM = /^:\w+(?:\{(?:\{[\d,]*\}|\\.|[^{}\\])+\})?/;
const FORBIDDEN = /[\s?#*{}]/;

/**
 * Why `path` is not a usable route pattern, or null. Accepted: "*" alone, or "/" followed by
 * segments that are literal text, `:name`, `:name{regex}`, with an optional final "/*".
 * The pattern is then compiled by the router `match.ts` uses (PatternRouter), so whatever it
 * would reject at startup (an invalid regex, a repeated parameter name) is reported here.
 */
export function routePathProblem(path: string): string | null {
  if (path === "*") return null;
  if (!path.startsWith("/")) return `a route path must start with "/", got ${show(path)}`;
  const body = path.endsWith("/*") ? path.slice(0, -2) : path;
  for (const segment of segmentsOf(body)) {
    const why = segmentProblem(segment, path);
    if (why) return why;
  }
  return compileProblem(path);
}

/** Splits on "/" outside `{...}`, since a parameter's regex may itself contain "/". */
function segmentsOf(body: string): string[] {
  const segments: string[] = [];
  let depth = 0;
  let start = 1;
  for (let i = 1; i < body.length; i++) {
    const char = body[i];
    if (char === "\\") i++;
    else if (char === "{") depth++;
    else if (char === "}") depth = Math.max(0, depth - 1);
    else if (char === "/" && depth === 0) {
      segments.push(body.slice(start, i));
      start = i + 1;
    }
  }
  if (start <= body.length) segments.push(body.slice(start));
  return segments;
}

function segmentProblem(segment: string, path: string): string | null {
  const got = `got ${show(path)}`;
  if (segment.startsWith(":")) {
    const param = PARAM.exec(segment);
    if (param && param[0].length === segment.length) return null;
    return `a parameter segment must be ":name" or ":name{regex}", ${got}`;
  }
  if (segment.includes("*")) return `"*" is allowed only as the last segment ("/*") or alone, ${got}`;
  if (FORBIDDEN.test(segment)) {
    return `a path segment must not contain whitespace, "?", "#", "{" or "}", ${got}`;
  }
  return null;
}

function compileProblem(path: string): string | null {
  try {
    new PatternRouter<null>().add("ALL", path, null);
    return null;
  } catch {
    return `the router rejects ${show(path)} (invalid parameter regex or repeated parameter name)`;
  }
}
