/**
 * The fields of a task, shared by posting and editing: title, description, skills, budget and
 * deadline.
 *
 * @module
 */
import type { JSX } from "preact";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Task } from "@platform/proto/tasks/v1";
import type { Problem } from "../errors.ts";
import {
  amountText,
  CURRENCIES,
  localDateTimeValue,
  parseAmount,
  parseLocalDateTime,
  parseSkills,
  toDate,
} from "../format.ts";
import { fieldError, SelectField, TextField } from "./components.tsx";

/** What the form holds, as typed. */
export interface TaskDraft {
  title: string;
  description: string;
  skills: string;
  budget: string;
  currency: string;
  deadline: string;
}

/** The fields of a task that the services name in errors. */
export const TASK_FIELDS: string[] = [
  "title",
  "description",
  "required_skills",
  "budget",
  "deadline",
];

/** An empty draft. */
export const EMPTY_DRAFT: TaskDraft = {
  title: "",
  description: "",
  skills: "",
  budget: "",
  currency: "USD",
  deadline: "",
};

/**
 * A draft of an existing task, for editing.
 *
 * @example
 * ```ts
 * const draft = draftOf(task);
 * ```
 */
export function draftOf(task: Task): TaskDraft {
  const currency = task.budget?.currency || "USD";
  return {
    title: task.title,
    description: task.description,
    skills: task.requiredSkills.join(", "),
    budget: task.budget ? amountText(task.budget.amountMinor, currency) : "",
    currency,
    deadline: localDateTimeValue(toDate(task.deadline)),
  };
}

/** The draft as request fields, or the problem that keeps it from being sent. */
export type ParsedDraft =
  | {
    ok: true;
    title: string;
    description: string;
    skills: string[];
    budget: { currency: string; amountMinor: bigint };
    deadline?: ReturnType<typeof timestampFromDate>;
  }
  | { ok: false; problem: Problem };

/**
 * Checks what only the page can check (an amount it can read, a date it can parse) and that at
 * least one skill is named (the Task Service's rule too: a task always keeps at least one, so the
 * page says so at the field before sending); everything else is the Task Service's to judge, and
 * its errors come back naming the field.
 *
 * @example
 * ```ts
 * const parsed = parseDraft(draft);
 * if (parsed.ok) await api.tasks.createTask({ title: parsed.title, ... });
 * ```
 */
export function parseDraft(draft: TaskDraft): ParsedDraft {
  const amountMinor = parseAmount(draft.budget, draft.currency);
  if (amountMinor === undefined) {
    return {
      ok: false,
      problem: {
        kind: "input",
        field: "budget",
        message: `Budget: write an amount such as 500 or 499.99 ${draft.currency}.`,
      },
    };
  }
  const skills = parseSkills(draft.skills);
  if (skills.length === 0) {
    return {
      ok: false,
      problem: {
        kind: "input",
        field: "required_skills",
        message: "Required skills: must name at least one skill: a task always keeps at least one.",
      },
    };
  }
  const deadline = parseLocalDateTime(draft.deadline);
  if (draft.deadline !== "" && !deadline) {
    return {
      ok: false,
      problem: { kind: "input", field: "deadline", message: "Deadline: pick a date and time." },
    };
  }
  return {
    ok: true,
    title: draft.title,
    description: draft.description,
    skills,
    budget: { currency: draft.currency, amountMinor },
    deadline: deadline ? timestampFromDate(deadline) : undefined,
  };
}

/**
 * The task's inputs. `prefix` keeps ids unique when two forms are on one page.
 *
 * @example
 * ```tsx
 * <TaskFields prefix="new" draft={draft} onDraft={setDraft} problem={problem} />
 * ```
 */
export function TaskFields(
  props: {
    prefix: string;
    draft: TaskDraft;
    onDraft(draft: TaskDraft): void;
    problem?: Problem;
  },
): JSX.Element {
  const { draft, problem, prefix } = props;
  const set = (key: keyof TaskDraft) => (value: string) =>
    props.onDraft({ ...draft, [key]: value });
  return (
    <>
      <TextField
        id={`${prefix}-title`}
        label="Title"
        value={draft.title}
        onValue={set("title")}
        error={fieldError(problem, "title")}
        required
        maxLength={200}
      />
      <TextField
        id={`${prefix}-description`}
        label="Description"
        multiline
        value={draft.description}
        onValue={set("description")}
        error={fieldError(problem, "description")}
      />
      <TextField
        id={`${prefix}-skills`}
        label="Required skills"
        hint="Separated by commas, such as: go, postgresql. Developers online with these skills get proposals."
        value={draft.skills}
        onValue={set("skills")}
        error={fieldError(problem, "required_skills")}
      />
      <div class="row">
        <TextField
          id={`${prefix}-budget`}
          label="Budget"
          inputMode="decimal"
          value={draft.budget}
          onValue={set("budget")}
          error={fieldError(problem, "budget")}
          required
        />
        <SelectField
          id={`${prefix}-currency`}
          label="Currency"
          value={draft.currency}
          options={CURRENCIES}
          onValue={set("currency")}
        />
      </div>
      <TextField
        id={`${prefix}-deadline`}
        label="Deadline (optional)"
        type="datetime-local"
        value={draft.deadline}
        onValue={set("deadline")}
        error={fieldError(problem, "deadline")}
      />
    </>
  );
}
