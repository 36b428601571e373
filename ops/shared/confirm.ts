/**
 * Confirmation before anything destructive: `--yes`, or an answer typed on a terminal. Without
 * either (a pipe, cron, CI) the program refuses, so nothing is destroyed by surprise.
 *
 * @module
 */
import { OpsError } from "./errors.ts";
import type { Output } from "./output.ts";

/** What to confirm. */
export interface ConfirmRequest {
  /** True when the operator passed --yes. */
  yes: boolean;
  /** Short description of the action, e.g. `replace database "freelance_platform"`. */
  action: string;
  /** When set, the operator must type exactly this (e.g. the database name) instead of "yes". */
  typeToConfirm?: string;
}

/**
 * Resolves when confirmed; throws {@link OpsError} (nothing done) otherwise.
 *
 * @example
 * ```ts
 * await confirm(output, { yes: flags.yes, action: "purge stream TASKS" });
 * ```
 */
export function confirm(output: Output, request: ConfirmRequest): void {
  if (request.yes) {
    output.line(`Confirmed by --yes: ${request.action}.`);
    return;
  }
  if (!output.interactive) {
    throw new OpsError(
      `refusing to ${request.action} without confirmation: not on a terminal and --yes not given. ` +
        "Nothing was changed.",
      { hint: "re-run on a terminal to be asked, or add --yes once you are sure" },
    );
  }
  const expected = request.typeToConfirm ?? "yes";
  const answer = output.question(
    request.typeToConfirm
      ? `Type "${expected}" to ${request.action} (anything else aborts): `
      : `Proceed to ${request.action}? Type "yes" to continue: `,
  );
  if ((answer ?? "").trim() !== expected) {
    throw new OpsError(`aborted by the operator: did not ${request.action}. Nothing was changed.`);
  }
}
