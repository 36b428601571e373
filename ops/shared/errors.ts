/**
 * Errors the ops programs report to an operator: a message that says what failed and what was (or
 * was not) changed, an optional hint with the next step, and the exit code to leave with.
 *
 * @module
 */

/** Exit codes shared by every ops program (see docs/ops.md). */
export const ExitCode = {
  /** Done, nothing wrong. */
  ok: 0,
  /** The operation failed or found a problem. */
  failure: 1,
  /** Doctor only: a critical problem (1 is then "warnings only"). */
  critical: 2,
  /** Bad arguments or configuration: nothing was attempted. */
  usage: 64,
} as const;

/**
 * A failure with an operator-facing message.
 *
 * @example
 * ```ts
 * throw new OpsError("pg_dump not found", { hint: "install postgresql-client-16" });
 * ```
 */
export class OpsError extends Error {
  /** The next step to suggest, printed after the message as `hint: ...`. */
  readonly hint?: string;
  /** The exit code to leave with (default {@linkcode ExitCode.failure}). */
  readonly exitCode: number;

  /**
   * Creates the error.
   *
   * @param message What failed, and what was (or was not) changed.
   * @param options The hint, the exit code and the cause.
   */
  constructor(
    message: string,
    options: { hint?: string; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "OpsError";
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.failure;
  }
}

/**
 * Bad command-line usage (exit code 64).
 *
 * @example
 * ```ts
 * throw new UsageError("unknown command \"flush\"", "deno task emergency --help");
 * ```
 */
export class UsageError extends OpsError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: ExitCode.usage });
    this.name = "UsageError";
  }
}

/**
 * The message of any thrown value, without a stack.
 *
 * @example
 * ```ts
 * errorMessage(new Error("boom")); // "boom"
 * ```
 */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const message = error.message || error.name;
    return typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(error);
}
