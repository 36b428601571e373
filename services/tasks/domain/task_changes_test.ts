import assert from "node:assert/strict";
import { describeChanges, type EditableTerms, formatBudget } from "./task_changes.ts";

const before: EditableTerms = {
  title: "Old",
  description: "long text",
  required_skills: ["go", "sql"],
  budget_minor: "1500",
  currency: "USD",
  deadline: null,
};

Deno.test("an edit's changes read old -> new; a description is named only", () => {
  const after: EditableTerms = {
    ...before,
    title: "New",
    description: "other",
    required_skills: ["rust"],
    budget_minor: 2005n,
    deadline: new Date("2030-01-02T03:04:05Z"),
  };
  assert.deepEqual(
    describeChanges(before, after, [
      "title",
      "description",
      "required_skills",
      "budget",
      "deadline",
    ]),
    [
      { field: "title", old_value: "Old", new_value: "New" },
      { field: "description", old_value: "", new_value: "" },
      { field: "required_skills", old_value: "go, sql", new_value: "rust" },
      { field: "budget", old_value: "USD 15.00", new_value: "USD 20.05" },
      { field: "deadline", old_value: "", new_value: "2030-01-02T03:04:05.000Z" },
    ],
  );
});

Deno.test("a budget keeps its currency's minor digits", () => {
  assert.equal(formatBudget({ currency: "USD", budget_minor: "5" }), "USD 0.05");
  assert.equal(formatBudget({ currency: "JPY", budget_minor: 1500n }), "JPY 1500");
  assert.equal(formatBudget({ currency: "BHD", budget_minor: 1500n }), "BHD 1.500");
});
