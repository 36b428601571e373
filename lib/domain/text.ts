/**
 * Free text checks shared by every service: control characters other than tab, newline and
 * carriage return have no place in names, titles or descriptions (and PostgreSQL refuses NUL).
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

// C0 controls but \t, \n and \r; DEL; C1 controls.
// deno-lint-ignore no-control-regex
const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/**
 * Throws a ValidationError naming `field` when `text` holds a control character other than tab,
 * newline or carriage return.
 *
 * @example
 * ```ts
 * rejectControlCharacters("two\r\nlines", "description"); // fine
 * ```
 */
export function rejectControlCharacters(text: string, field: string): void {
  const match = FORBIDDEN_CONTROL.exec(text);
  if (match) {
    const code = match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    throw new ValidationError(
      field,
      `must not contain control characters (found U+${code}); tab and line breaks are allowed`,
    );
  }
}
