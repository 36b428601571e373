/**
 * What an edit changed, as readable text for a task's history (the FieldChange of tasks.proto).
 * Pure: the command layer stores what this returns with the edit's history row.
 *
 * @module
 */

/** One field an edit changed, old and new as readable text (empty for a description). */
export interface FieldChange {
  field: string;
  old_value: string;
  new_value: string;
}

/** The parts of a task an edit can change. */
export interface EditableTerms {
  title: string;
  description: string;
  required_skills: readonly string[];
  budget_minor: string | bigint;
  currency: string;
  deadline: Date | null;
}

/**
 * The changes of the named fields (proto names, as changedFields returns them) from one state of a
 * task to the next.
 *
 * @example
 * ```ts
 * describeChanges(before, after, ["budget"]);
 * // [{ field: "budget", old_value: "USD 15.00", new_value: "USD 20.00" }]
 * ```
 */
export function describeChanges(
  before: EditableTerms,
  after: EditableTerms,
  fields: readonly string[],
): FieldChange[] {
  return fields.map((field) => {
    const [old_value, new_value] = field === "title"
      ? [before.title, after.title]
      : field === "required_skills"
      ? [before.required_skills.join(", "), after.required_skills.join(", ")]
      : field === "budget"
      ? [formatBudget(before), formatBudget(after)]
      : field === "deadline"
      ? [before.deadline?.toISOString() ?? "", after.deadline?.toISOString() ?? ""]
      : ["", ""]; // description: too long to repeat
    return { field, old_value, new_value };
  });
}

/**
 * A budget as its currency and amount in major units, with the currency's own minor digits.
 *
 * @example
 * ```ts
 * formatBudget({ currency: "USD", budget_minor: 1500n }); // "USD 15.00"
 * formatBudget({ currency: "JPY", budget_minor: 1500n }); // "JPY 1500"
 * ```
 */
export function formatBudget(
  budget: { currency: string; budget_minor: string | bigint },
): string {
  let digits = 2;
  try {
    digits = new Intl.NumberFormat("en", { style: "currency", currency: budget.currency })
      .resolvedOptions().maximumFractionDigits ?? 2;
  } catch { /* an unknown code keeps two */ }
  const minor = BigInt(budget.budget_minor);
  const sign = minor < 0n ? "-" : "";
  const text = (minor < 0n ? -minor : minor).toString().padStart(digits + 1, "0");
  const amount = digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  return `${budget.currency} ${sign}${amount}`;
}
