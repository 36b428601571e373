/**
 * The one rule for control characters in free text, shared by every service and every text field
 * (titles, descriptions, reasons, display names, bios, emails): C0 controls, DEL and the C1
 * controls (U+0080..U+009F, NEL U+0085 among them) are refused; tab and line breaks are allowed in
 * multi-line fields only. PostgreSQL refuses NUL anyway; the others corrupt logs and terminals.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

// C0 controls but \t, \n and \r; DEL; C1 controls.
// deno-lint-ignore no-control-regex
const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
// Every C0 control, DEL, C1 controls: for one-line fields.
// deno-lint-ignore no-control-regex
const FORBIDDEN_CONTROL_ONE_LINE = /[\u0000-\u001F\u007F-\u009F]/;

/** Whether a field may span lines. */
export interface ControlCharacterOptions {
  /** Tab, line feed and carriage return allowed (default true); false for one-line fields. */
  lineBreaks?: boolean;
}

/**
 * True when `text` holds a control character the rule refuses.
 *
 * @example
 * ```ts
 * containsControlCharacters("a\u0085b"); // true
 * containsControlCharacters("two\nlines"); // false
 * containsControlCharacters("two\nlines", { lineBreaks: false }); // true
 * ```
 */
export function containsControlCharacters(
  text: string,
  options: ControlCharacterOptions = {},
): boolean {
  return (options.lineBreaks === false ? FORBIDDEN_CONTROL_ONE_LINE : FORBIDDEN_CONTROL).test(text);
}

/**
 * Throws a ValidationError naming `field` when `text` holds a control character: any but tab,
 * newline and carriage return, or any at all with `{ lineBreaks: false }`.
 *
 * @example
 * ```ts
 * rejectControlCharacters("two\r\nlines", "description"); // fine
 * rejectControlCharacters("Ada Lovelace", "display_name", { lineBreaks: false }); // fine
 * ```
 */
export function rejectControlCharacters(
  text: string,
  field: string,
  options: ControlCharacterOptions = {},
): void {
  const oneLine = options.lineBreaks === false;
  const match = (oneLine ? FORBIDDEN_CONTROL_ONE_LINE : FORBIDDEN_CONTROL).exec(text);
  if (match) {
    const code = match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    throw new ValidationError(
      field,
      `must not contain control characters (found U+${code})` +
        (oneLine ? "; it is one line of text" : "; tab and line breaks are allowed"),
    );
  }
}
