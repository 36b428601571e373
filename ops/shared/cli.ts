/**
 * Command-line plumbing shared by the ops programs: flag parsing with clear usage errors, and a
 * `main` wrapper that turns any failure into a message, a hint and an exit code (never a stack
 * trace at 3 a.m.).
 *
 * @module
 */
import { parseArgs as nodeParseArgs } from "node:util";
import { ConfigError, redactUrl } from "@platform/lib/config";
import { errorMessage, ExitCode, OpsError, UsageError } from "./errors.ts";
import { Output } from "./output.ts";

/** The flags a program accepts: booleans and strings (strings may repeat when `multiple`). */
export interface FlagSpec {
  boolean?: string[];
  string?: string[];
  multiple?: string[];
  short?: Record<string, string>;
}

/** Parsed flags and positional arguments. */
export interface ParsedArgs {
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parses arguments; throws {@link UsageError} on an unknown flag or a missing value.
 *
 * @example
 * ```ts
 * const { flags, positionals } = parseFlags(["--yes", "x.dump"], { boolean: ["yes"] });
 * flags.yes; // true
 * ```
 */
export function parseFlags(args: string[], spec: FlagSpec): ParsedArgs {
  const options: Record<
    string,
    { type: "boolean" | "string"; multiple?: boolean; short?: string }
  > = {};
  for (const name of spec.boolean ?? []) options[name] = { type: "boolean" };
  for (const name of spec.string ?? []) options[name] = { type: "string" };
  for (const name of spec.multiple ?? []) options[name] = { type: "string", multiple: true };
  for (const [short, name] of Object.entries(spec.short ?? {})) {
    if (options[name]) options[name].short = short;
  }
  options.help = { type: "boolean", short: "h" };
  try {
    const parsed = nodeParseArgs({ args, options, allowPositionals: true, strict: true });
    return { flags: parsed.values as ParsedArgs["flags"], positionals: parsed.positionals };
  } catch (error) {
    throw new UsageError(errorMessage(error).replace(/\. To specify a positional.*$/s, ""));
  }
}

/**
 * A flag's value as a positive integer, or the fallback.
 *
 * @example
 * ```ts
 * intFlag({ keep: "3" }, "keep", 7); // 3
 * ```
 */
export function intFlag(
  flags: ParsedArgs["flags"],
  name: string,
  fallback: number,
  min = 1,
): number {
  const value = flags[name];
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !/^\d+$/.test(value) || Number(value) < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/**
 * A duration flag such as `90s`, `30m`, `1h` or `2d`, in milliseconds.
 *
 * @example
 * ```ts
 * parseDurationFlag("1h", "older-than"); // 3600000
 * ```
 */
export function parseDurationFlag(value: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) {
    throw new UsageError(`--${name} must be a duration such as 90s, 30m, 1h or 2d, got "${value}"`);
  }
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2]]!;
  return Number(match[1]) * unit;
}

/**
 * Runs a program's body and exits with its code; errors become one clear message on stderr.
 * URLs in messages lose their passwords.
 *
 * @example
 * ```ts
 * if (import.meta.main) await runMain((out) => backupCli(Deno.args, out));
 * ```
 */
export async function runMain(body: (output: Output) => Promise<number>): Promise<never> {
  const output = Output.console();
  let code: number;
  try {
    code = await body(output);
  } catch (error) {
    output.clearProgress();
    code = reportError(output, error);
  }
  Deno.exit(code);
}

/**
 * Writes an error for an operator and returns the exit code it calls for.
 *
 * @example
 * ```ts
 * const code = reportError(output, new OpsError("database unreachable"));
 * ```
 */
export function reportError(output: Output, error: unknown): number {
  if (error instanceof OpsError) {
    output.warn(`error: ${scrub(error.message)}`);
    if (error.hint) output.warn(`hint: ${scrub(error.hint)}`);
    return error.exitCode;
  }
  if (error instanceof ConfigError) {
    output.warn(`error: configuration: ${scrub(error.message)}`);
    return ExitCode.usage;
  }
  output.warn(`error: ${scrub(errorMessage(error))}`);
  return ExitCode.failure;
}

/**
 * Removes passwords from any URL inside a message.
 *
 * @example
 * ```ts
 * scrub("cannot reach postgres://app:pw@db:5432/x"); // "cannot reach postgres://app:***@db:5432/x"
 * ```
 */
export function scrub(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url));
}

/**
 * An abort signal fired by the first Ctrl-C (or SIGTERM), so a program can stop its child process
 * and clean up; a second one exits at once (code 130).
 *
 * @example
 * ```ts
 * const signal = interruptSignal();
 * await runBackup({ ...options, signal });
 * ```
 */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(name, () => {
      if (controller.signal.aborted) Deno.exit(130);
      Deno.stderr.writeSync(
        new TextEncoder().encode("\ninterrupting: cleaning up (press Ctrl-C again to quit now)\n"),
      );
      controller.abort();
    });
  }
  return controller.signal;
}
