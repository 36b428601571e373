/**
 * Small building blocks every view uses: labelled fields whose errors are announced, a problem
 * box, a status badge and a section heading.
 *
 * @module
 */
import type { ComponentChildren, InputHTMLAttributes, JSX } from "preact";
import { useState } from "preact/hooks";
import type { Problem } from "../errors.ts";

/** Props of {@link TextField}. */
export interface TextFieldProps {
  id: string;
  label: string;
  value: string;
  onValue(value: string): void;
  type?: "text" | "email" | "password" | "number" | "datetime-local" | "url";
  hint?: string;
  /** The error for this field, shown under it and announced. */
  error?: string;
  required?: boolean;
  autoComplete?: string;
  multiline?: boolean;
  inputMode?: "decimal" | "numeric" | "text" | "email";
  minLength?: number;
  maxLength?: number;
}

/**
 * A labelled input with an optional hint and error, wired with `aria-describedby`.
 *
 * @example
 * ```tsx
 * <TextField id="email" label="Email" type="email" value={email} onValue={setEmail} required />
 * ```
 */
export function TextField(props: TextFieldProps): JSX.Element {
  const describedBy = [props.hint ? `${props.id}-hint` : "", props.error ? `${props.id}-error` : ""]
    .filter(Boolean).join(" ") || undefined;
  const common = {
    id: props.id,
    name: props.id,
    value: props.value,
    required: props.required,
    "aria-invalid": props.error ? true : undefined,
    "aria-describedby": describedBy,
    onInput: (e: Event) => props.onValue((e.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class={`field${props.error ? " field-invalid" : ""}`}>
      <label for={props.id}>{props.label}</label>
      {props.multiline
        ? <textarea {...common} rows={4} maxLength={props.maxLength} />
        : <input {...inputAttributes(props, common)} />}
      {props.hint && <p class="hint" id={`${props.id}-hint`}>{props.hint}</p>}
      {props.error && <p class="error" id={`${props.id}-error`} role="alert">{props.error}</p>}
    </div>
  );
}

// Preact types each input `type` apart; one field component serves several, so the attributes
// are put together here and typed once.
function inputAttributes(
  props: TextFieldProps,
  common: Record<string, unknown>,
): InputHTMLAttributes<HTMLInputElement> {
  return {
    ...common,
    type: props.type ?? "text",
    autoComplete: props.autoComplete,
    inputMode: props.inputMode,
    minLength: props.minLength,
    maxLength: props.maxLength,
  } as InputHTMLAttributes<HTMLInputElement>;
}

/** Props of {@link SelectField}. */
export interface SelectFieldProps {
  id: string;
  label: string;
  value: string;
  options: readonly string[] | ReadonlyArray<{ value: string; label: string }>;
  onValue(value: string): void;
  error?: string;
}

/**
 * A labelled select.
 *
 * @example
 * ```tsx
 * <SelectField id="currency" label="Currency" value={c} options={CURRENCIES} onValue={setC} />
 * ```
 */
export function SelectField(props: SelectFieldProps): JSX.Element {
  return (
    <div class={`field${props.error ? " field-invalid" : ""}`}>
      <label for={props.id}>{props.label}</label>
      <select
        id={props.id}
        name={props.id}
        value={props.value}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${props.id}-error` : undefined}
        onChange={(e) => props.onValue((e.currentTarget as HTMLSelectElement).value)}
      >
        {props.options.map((option) =>
          typeof option === "string"
            ? <option key={option} value={option}>{option}</option>
            : <option key={option.value} value={option.value}>{option.label}</option>
        )}
      </select>
      {props.error && <p class="error" id={`${props.id}-error`} role="alert">{props.error}</p>}
    </div>
  );
}

/**
 * A problem that belongs to no single field, announced to screen readers.
 *
 * @example
 * ```tsx
 * <ProblemBox problem={problem} />
 * ```
 */
export function ProblemBox(
  props: { problem?: Problem; id?: string },
): JSX.Element | null {
  if (!props.problem) return null;
  return (
    <div class={`problem problem-${props.problem.kind}`} role="alert" id={props.id}>
      {props.problem.message}
    </div>
  );
}

/**
 * The field error for `field` if the problem names it (several proto names may map to one input).
 *
 * @example
 * ```tsx
 * <TextField ... error={fieldError(problem, "title")} />
 * ```
 */
export function fieldError(problem: Problem | undefined, ...fields: string[]): string | undefined {
  if (!problem?.field) return undefined;
  return fields.some((f) => problem.field === f || problem.field!.startsWith(`${f}.`))
    ? problem.message
    : undefined;
}

/**
 * After a failed submit, moves focus to the first field marked invalid (once the page has
 * rendered the error), so a keyboard user lands where the fix is.
 *
 * @example
 * ```ts
 * setProblem(describeError(error, "Task Service"));
 * focusFirstInvalid();
 * ```
 */
export function focusFirstInvalid(): void {
  requestAnimationFrame(() => {
    document.querySelector<HTMLElement>('main [aria-invalid="true"]')?.focus();
  });
}

/**
 * The problem to show above a form: any problem that none of `fields` shows.
 *
 * @example
 * ```tsx
 * <ProblemBox problem={formProblem(problem, ["title", "budget"])} />
 * ```
 */
export function formProblem(problem: Problem | undefined, fields: string[]): Problem | undefined {
  if (!problem) return undefined;
  return fields.some((f) => fieldError(problem, f)) ? undefined : problem;
}

/**
 * A status word in a coloured pill (the colour is decoration; the word carries the meaning).
 *
 * @example
 * ```tsx
 * <Badge tone="good">Assigned</Badge>
 * ```
 */
export function Badge(
  props: { tone?: "good" | "bad" | "warn" | "info" | "muted"; children: ComponentChildren },
): JSX.Element {
  return <span class={`badge badge-${props.tone ?? "info"}`}>{props.children}</span>;
}

/**
 * A card with a heading.
 *
 * @example
 * ```tsx
 * <Section title="Your profile" id="profile">...</Section>
 * ```
 */
export function Section(
  props: { title: string; id: string; children: ComponentChildren; actions?: ComponentChildren },
): JSX.Element {
  return (
    <section class="card" aria-labelledby={`${props.id}-title`} id={props.id}>
      <div class="card-head">
        <h2 id={`${props.id}-title`}>{props.title}</h2>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

/**
 * The end of a paged list: a "Show more" button while the service has more, so a list never
 * stops silently at its first page.
 *
 * @example
 * ```tsx
 * <ShowMore more={tasks.more} shown={tasks.items.length} what="tasks" onMore={feed.showMore} />
 * ```
 */
export function ShowMore(
  props: { more: boolean; shown: number; what: string; onMore(): void },
): JSX.Element | null {
  const [asked, setAsked] = useState(0);
  if (!props.more) return null;
  const waiting = asked === props.shown;
  return (
    <p class="show-more">
      <button
        type="button"
        disabled={waiting}
        onClick={() => {
          setAsked(props.shown);
          props.onMore();
        }}
      >
        {waiting ? "Loading…" : `Show more ${props.what}`}
      </button>{" "}
      <span class="muted">{props.shown} shown</span>
    </p>
  );
}
