/** Turns zod issues into the one-line `path: reason` problems a config author reads. */
import type { z } from "zod";

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * One line per problem, in document order, duplicates removed (a value failing two checks
 * with the same message is one problem). Unknown keys become one line each; a union whose
 * value clearly meant one branch (say, an object where `false | object` is allowed) reports
 * that branch's problems instead of a vague "no option matched".
 */
export function problemLines(issues: readonly Issue[]): string[] {
  return [...new Set(collect(issues, []))];
}

/** `tenants[0].routes[2].cache.ttl`; the empty path prints as `(root)`. */
export function formatPath(path: Path): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && IDENTIFIER.test(key)) out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === "" ? "(root)" : out;
}

function collect(issues: readonly Issue[], base: Path): string[] {
  return issues.flatMap((issue) => {
    const path = [...base, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => `${formatPath([...path, key])}: unknown field`);
    }
    if (issue.code === "invalid_union") {
      const branch = intendedBranch(issue.errors);
      if (branch) return collect(branch, path);
    }
    return [`${formatPath(path)}: ${issue.message}`];
  });
}

/**
 * The one branch the value has the right type for, if exactly one: a branch that rejected
 * the value itself (wrong type, wrong literal) was not what the author meant.
 */
function intendedBranch(branches: readonly (readonly Issue[])[]): readonly Issue[] | null {
  const plausible = branches.filter(
    (issues) => issues.length > 0 && !issues.some((i) => i.path.length === 0 && (i.code === "invalid_type" || i.code === "invalid_value")),
  );
  return plausible.length === 1 ? (plausible[0] ?? null) : null;
}
