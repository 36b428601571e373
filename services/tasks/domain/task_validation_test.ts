import assert from "node:assert/strict";
import { ValidationError } from "@platform/lib/errors";
import {
  decodePageToken,
  encodePageToken,
  normalizeSkills,
  validateBudget,
  validateDeadline,
  validateDescription,
  validateId,
  validateLink,
  validateNote,
  validateReason,
  validateRequiredSkills,
  validateShareBps,
  validateTitle,
} from "./task_validation.ts";
import { validatePageSize } from "@platform/lib/domain";

function field(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ValidationError, String(error));
    return error.field;
  }
  throw new Error("expected a ValidationError");
}

Deno.test("title is trimmed and 1..200 characters", () => {
  assert.equal(validateTitle("  Build it  "), "Build it");
  assert.equal(validateTitle("x".repeat(200)).length, 200);
  assert.equal(field(() => validateTitle("   ")), "title");
  assert.equal(field(() => validateTitle("x".repeat(201))), "title");
});

Deno.test("description at most 10000 characters", () => {
  assert.equal(validateDescription(""), "");
  assert.equal(field(() => validateDescription("y".repeat(10_001))), "description");
});

Deno.test("skills are normalised, de-duplicated and bounded", () => {
  // The same normalisation as developers' skill tags: sorted, spaces become hyphens.
  assert.deepEqual(normalizeSkills([" Go ", "go", "C++", "c#", "node.js", "Node JS"]), [
    "c#",
    "c++",
    "go",
    "node-js",
    "node.js",
  ]);
  assert.equal(field(() => normalizeSkills(["ok", "a/b"])), "required_skills");
  assert.equal(field(() => normalizeSkills(["<script>"])), "required_skills");
  assert.equal(field(() => normalizeSkills(["x".repeat(51)])), "required_skills");
  const many = Array.from({ length: 21 }, (_, i) => `s${i}`);
  assert.equal(field(() => normalizeSkills(many)), "required_skills");
  assert.equal(normalizeSkills(many.slice(0, 20)).length, 20);
});

Deno.test("budget: allowed currency, 1..1e11 minor units", () => {
  assert.deepEqual(validateBudget({ currency: "usd", amountMinor: 1500n }), {
    currency: "USD",
    amountMinor: 1500n,
  });
  assert.equal(field(() => validateBudget(undefined)), "budget");
  assert.equal(
    field(() => validateBudget({ currency: "XXX", amountMinor: 1n })),
    "budget.currency",
  );
  assert.equal(field(() => validateBudget({ currency: "", amountMinor: 1n })), "budget.currency");
  assert.equal(
    field(() => validateBudget({ currency: "EUR", amountMinor: 0n })),
    "budget.amount_minor",
  );
  assert.equal(
    field(() => validateBudget({ currency: "EUR", amountMinor: -5n })),
    "budget.amount_minor",
  );
  assert.equal(
    field(() => validateBudget({ currency: "EUR", amountMinor: 100_000_000_001n })),
    "budget.amount_minor",
  );
});

Deno.test("deadline in the future and within two years", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  assert.equal(validateDeadline(undefined, now), undefined);
  assert.ok(validateDeadline(new Date("2026-02-01T00:00:00Z"), now));
  assert.equal(field(() => validateDeadline(new Date("2025-12-31T00:00:00Z"), now)), "deadline");
  assert.equal(field(() => validateDeadline(new Date("2029-01-01T00:00:00Z"), now)), "deadline");
});

Deno.test("page size and ids", () => {
  assert.equal(validatePageSize(0), 20);
  assert.equal(validatePageSize(100), 100);
  assert.equal(field(() => validatePageSize(101)), "page_size");
  assert.equal(field(() => validatePageSize(-1)), "page_size");
  const id = crypto.randomUUID();
  assert.equal(validateId(id.toUpperCase(), "task_id"), id);
  assert.equal(field(() => validateId("nope", "task_id")), "task_id");
  assert.equal(field(() => validateId("", "task_id")), "task_id");
});

Deno.test("page tokens round-trip; malformed ones name page_token", () => {
  const cursor = { createdAt: new Date("2026-01-02T03:04:05.678Z"), id: crypto.randomUUID() };
  assert.deepEqual(decodePageToken(encodePageToken(cursor)), cursor);
  assert.equal(decodePageToken(""), undefined);
  for (const bad of ["!!!", "abc", btoa("[1,2]"), btoa('["x","y"]'), "eyJ"]) {
    assert.equal(field(() => decodePageToken(bad)), "page_token");
  }
});

Deno.test("control characters other than tab and line breaks are refused, naming the field", () => {
  assert.equal(validateTitle("a\tb"), "a\tb");
  assert.equal(
    validateDescription("line one\nline two\n\tindented"),
    "line one\nline two\n\tindented",
  );
  assert.equal(validateReason("over\nbudget"), "over\nbudget");
  assert.equal(validateDescription("windows\r\nline ends"), "windows\r\nline ends");
  for (const bad of ["\u0000", "\u0007", "\u000b", "\u001b[31m", "\u007f", "\u0085", "\u009f"]) {
    assert.equal(field(() => validateTitle(`x${bad}y`)), "title", JSON.stringify(bad));
    assert.equal(field(() => validateTitle(`x${bad}x`, "patch.title")), "patch.title");
    assert.equal(field(() => validateDescription(`d${bad}d`)), "description", JSON.stringify(bad));
    assert.equal(field(() => validateReason(`r${bad}r`)), "reason", JSON.stringify(bad));
  }
  // A trailing NUL is not whitespace: trimming must not hide it.
  assert.equal(field(() => validateTitle("title\u0000")), "title");
  assert.equal(field(() => validateDescription("\u0000")), "description");
});

Deno.test("forged page tokens: time outside 1970..9999 or a non-UUID id name page_token", () => {
  const id = crypto.randomUUID();
  const token = (value: unknown) =>
    btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  assert.deepEqual(decodePageToken(token(["1970-01-01T00:00:00.000Z", id])), {
    createdAt: new Date(0),
    id,
  });
  assert.equal(decodePageToken(token(["9999-12-31T23:59:59.999Z", id.toUpperCase()]))?.id, id);
  for (
    const bad of [
      ["0000-01-01T00:00:00.000Z", id],
      ["-000001-01-01T00:00:00.000Z", id],
      ["-271821-04-20T00:00:00.000Z", id],
      ["+275760-09-13T00:00:00.000Z", id],
      ["+010000-01-01T00:00:00.000Z", id],
      ["1969-12-31T23:59:59.999Z", id],
      ["2026-01-01T00:00:00.000Z", [id]],
      ["2026-01-01T00:00:00.000Z", `${id}\u0000`],
      ["2026-01-01T00:00:00.000Z", id, "extra"],
      [0, id],
      { createdAt: "2026-01-01T00:00:00.000Z", id },
    ]
  ) {
    assert.equal(field(() => decodePageToken(token(bad))), "page_token", JSON.stringify(bad));
  }
});

Deno.test("delivery input: note, link and a split's share", () => {
  assert.equal(validateNote("  done  "), "done");
  assert.throws(() => validateNote("   "), ValidationError);
  assert.throws(() => validateNote("x".repeat(2001)), ValidationError);
  assert.throws(() => validateNote("bad\u0000"), ValidationError);
  assert.equal(validateLink(""), "");
  assert.equal(validateLink(" https://example.com/pr/1 "), "https://example.com/pr/1");
  for (const bad of ["ftp://x.org/f", "javascript:alert(1)", "not a url", "https://u:p@x.org/"]) {
    assert.throws(() => validateLink(bad), ValidationError, bad);
  }
  assert.throws(() => validateLink("https://x.org/" + "a".repeat(2000)), ValidationError);
  assert.equal(validateShareBps(5000), 5000);
  for (const bad of [0, 10_000, -1, 1.5, NaN]) {
    assert.throws(() => validateShareBps(bad), ValidationError, String(bad));
  }
});

Deno.test("a task has at least one skill, when created and after an edit (one rule)", () => {
  assert.deepEqual(validateRequiredSkills(["Go", "go"]), ["go"]);
  assert.equal(field(() => validateRequiredSkills([])), "required_skills");
  assert.throws(() => validateRequiredSkills([]), /required_skills: must name at least one/);
  assert.equal(field(() => validateRequiredSkills(["  "])), "required_skills");
  assert.equal(
    field(() => validateRequiredSkills([], "required_skills.skills")),
    "required_skills.skills",
  );
});
