import assert from "node:assert/strict";
import { ValidationError } from "../errors.ts";
import { containsControlCharacters, rejectControlCharacters } from "./text.ts";

Deno.test("one rule: C0 (but tab and line breaks), DEL and C1 controls are refused", () => {
  for (const c of ["\u0000", "\u0007", "\u001b", "\u007f", "\u0080", "\u0085", "\u009f"]) {
    assert.throws(() => rejectControlCharacters(`a${c}b`, "title"), ValidationError);
    assert.ok(containsControlCharacters(`a${c}b`));
  }
  rejectControlCharacters("two\r\nlines\tand a tab, \u00a0 and é", "description");
});

Deno.test("a one-line field refuses line breaks and tabs too", () => {
  for (const c of ["\n", "\r", "\t", "\u0085"]) {
    assert.throws(
      () => rejectControlCharacters(`a${c}b`, "display_name", { lineBreaks: false }),
      (e: ValidationError) => e.message.includes("display_name"),
    );
  }
  rejectControlCharacters("Ada Lovelace", "display_name", { lineBreaks: false });
});
