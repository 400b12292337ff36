/**
 * Command-line parsing shared by the scripts: `--help` prints the usage and exits 0; an unknown
 * option, a missing value or a stray argument prints the problem and the usage and exits 2 (the
 * usual code for a usage error) instead of node's stack trace.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Exit code for "called the wrong way", as in sh and most CLIs. */
export const USAGE_ERROR_EXIT_CODE = 2;

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface CommandLine<O extends Options> {
  /** Prefix of error lines, e.g. "brim" or "bench". */
  readonly name: string;
  /** Full usage text; its first line starts with "Usage:". */
  readonly usage: string;
  /** The script's own options (`--help` / `-h` is handled here, not listed). */
  readonly options: O;
  /** Default: `process.argv.slice(2)`. */
  readonly args?: readonly string[];
}

/**
 * Parses `args` strictly (no positionals) and returns the option values, or does not return:
 * exits 0 after printing the usage for `--help`, 2 after a usage error.
 */
export function parseCommandLine<const O extends Options>(spec: CommandLine<O>) {
  return parse(spec, false).values;
}

/**
 * `parseCommandLine` for commands that take words besides options (`config push FILE`): returns
 * the option values and the positionals in order. Checking how many positionals a command
 * needs is the caller's (with `usageError`).
 */
export function parseCommandLineWithPositionals<const O extends Options>(spec: CommandLine<O>) {
  return parse(spec, true);
}

function parse<const O extends Options>(spec: CommandLine<O>, allowPositionals: boolean) {
  const args = [...(spec.args ?? process.argv.slice(2))];
  // Before parsing, so `--help` wins over other mistakes on the same line.
  if (wantsHelp(args)) printUsageAndExit(spec.usage);
  try {
    const { values, positionals } = parseArgs({ args, options: spec.options, strict: true, allowPositionals });
    return { values, positionals };
  } catch (error) {
    return usageError(spec, error instanceof Error ? error.message : String(error));
  }
}

/** True when `args` asks for help (`--help` or `-h`) before any `--` separator. */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  const ours = end === -1 ? args : args.slice(0, end);
  return ours.includes("--help") || ours.includes("-h");
}

/** Prints the usage to stdout and exits 0. */
export function printUsageAndExit(usage: string): never {
  console.log(usage.trimEnd());
  process.exit(0);
}

/** Prints `<name>: <message>`, a blank line and the usage to stderr, and exits 2. */
export function usageError(spec: { readonly name: string; readonly usage: string }, message: string): never {
  console.error(`${spec.name}: ${message}\n\n${spec.usage.trimEnd()}`);
  process.exit(USAGE_ERROR_EXIT_CODE);
}
