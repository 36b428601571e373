/**
 * Reading and writing values as people type and read them: money in minor units, skills,
 * dates, and the names of task, match and proposal states.
 *
 * @module
 */
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { MatchState, ProposalReason, ProposalStatus } from "@platform/proto/orchestrator/v1";
import { TaskStatus, type Transition } from "@platform/proto/tasks/v1";

/** Currencies offered in forms. */
export const CURRENCIES: readonly string[] = ["USD", "EUR", "GBP", "CHF", "JPY"];

/** Digits after the point for a currency (2 for USD, 0 for JPY). */
export function fractionDigits(currency: string): number {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency })
      .resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/**
 * Parses an amount as typed ("90", "90.5", "1,250.00") into minor units, or undefined when it is
 * not an amount of this currency (too many decimals, negative, not a number).
 *
 * @example
 * ```ts
 * parseAmount("90.50", "USD"); // 9050n
 * parseAmount("1000", "JPY"); // 1000n
 * ```
 */
export function parseAmount(text: string, currency: string): bigint | undefined {
  const digits = fractionDigits(currency);
  const cleaned = text.trim().replace(/,/g, "");
  const match = /^(\d+)(?:\.(\d*))?$/.exec(cleaned);
  if (!match) return undefined;
  const fraction = match[2] ?? "";
  if (fraction.length > digits) return undefined;
  return BigInt(match[1]) * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, "0") || "0");
}

/**
 * Minor units as a plain amount for an input ("90.50").
 *
 * @example
 * ```ts
 * amountText(9050n, "USD"); // "90.50"
 * ```
 */
export function amountText(minor: bigint, currency: string): string {
  const digits = fractionDigits(currency);
  if (digits === 0) return minor.toString();
  const scale = 10n ** BigInt(digits);
  const whole = minor / scale;
  const fraction = (minor % scale).toString().padStart(digits, "0");
  return `${whole}.${fraction}`;
}

/**
 * Money for reading ("$90.50", "€1,200.00").
 *
 * @example
 * ```ts
 * formatMoney({ currency: "USD", amountMinor: 9050n }); // "$90.50"
 * ```
 */
export function formatMoney(money: { currency: string; amountMinor: bigint } | undefined): string {
  if (!money || !money.currency) return "—";
  const digits = fractionDigits(money.currency);
  try {
    return new Intl.NumberFormat("en", {
      style: "currency",
      currency: money.currency,
      minimumFractionDigits: digits,
    }).format(Number(amountText(money.amountMinor, money.currency)));
  } catch {
    return `${amountText(money.amountMinor, money.currency)} ${money.currency}`;
  }
}

/**
 * Skills as typed, separated by commas: "Go, PostgreSQL ,, rust" -> ["Go", "PostgreSQL", "rust"].
 * The services normalise case and order.
 *
 * @example
 * ```ts
 * parseSkills("Go, PostgreSQL"); // ["Go", "PostgreSQL"]
 * ```
 */
export function parseSkills(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** A protobuf timestamp as a Date (undefined when unset). */
export function toDate(ts: Timestamp | undefined): Date | undefined {
  if (!ts) return undefined;
  return new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6));
}

/**
 * A timestamp for reading, in the person's locale ("Nov 30, 2026, 14:05").
 *
 * @example
 * ```ts
 * formatTime(task.createdAt);
 * ```
 */
export function formatTime(ts: Timestamp | undefined): string {
  const date = toDate(ts);
  if (!date) return "—";
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * A `datetime-local` input's value ("2026-12-01T17:00") as a Date in local time, or undefined.
 *
 * @example
 * ```ts
 * parseLocalDateTime("2026-12-01T17:00");
 * ```
 */
export function parseLocalDateTime(value: string): Date | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * A Date as a `datetime-local` value in local time.
 *
 * @example
 * ```ts
 * localDateTimeValue(new Date(2026, 11, 1, 17, 0)); // "2026-12-01T17:00"
 * ```
 */
export function localDateTimeValue(date: Date | undefined): string {
  if (!date) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${
    pad(date.getHours())
  }:${pad(date.getMinutes())}`;
}

const TASK_STATUS: Record<number, string> = {
  [TaskStatus.OPEN]: "Open",
  [TaskStatus.ASSIGNED]: "Assigned",
  [TaskStatus.IN_PROGRESS]: "In progress",
  [TaskStatus.COMPLETED]: "Completed",
  [TaskStatus.CANCELLED]: "Cancelled",
  [TaskStatus.EXPIRED]: "Expired",
  [TaskStatus.SUBMITTED]: "Submitted for approval",
  [TaskStatus.DISPUTED]: "Disputed",
};

/** A task status's name ("In progress"). */
export function taskStatusLabel(status: TaskStatus): string {
  return TASK_STATUS[status] ?? enumWord(TaskStatus, status, "TASK_STATUS_");
}

const FIELD_WORD: Record<string, string> = {
  title: "title",
  description: "description",
  required_skills: "skills",
  budget: "budget",
  deadline: "deadline",
};

/**
 * One entry of a task's history in words: a creation, a change of status, or an edit with what it
 * changed and the terms version it left.
 *
 * @example
 * ```ts
 * historyEntryText(edit); // "Edited (terms v2): title “Old” → “New”; description changed"
 * ```
 */
export function historyEntryText(
  entry: Pick<Transition, "from" | "to" | "reason" | "changes" | "termsVersion">,
): string {
  if (entry.changes.length > 0) {
    const parts = entry.changes.map((c) => {
      const word = FIELD_WORD[c.field] ?? c.field;
      if (c.oldValue === "" && c.newValue === "") return `${word} changed`;
      const value = (v: string) =>
        v === ""
          ? "none"
          : c.field === "deadline"
          ? formatTime(timestampFromDate(new Date(v)))
          : `“${v}”`;
      return `${word} ${value(c.oldValue)} → ${value(c.newValue)}`;
    });
    const version = entry.termsVersion > 0 ? ` (terms v${entry.termsVersion})` : "";
    return `Edited${version}: ${parts.join("; ")}`;
  }
  const what = entry.from === TaskStatus.UNSPECIFIED
    ? `posted as ${taskStatusLabel(entry.to)}`
    : `${taskStatusLabel(entry.from)} → ${taskStatusLabel(entry.to)}`;
  return entry.reason ? `${what} — ${entry.reason}` : what;
}

const MATCH_STATE: Record<number, string> = {
  [MatchState.PENDING]: "Looking for developers",
  [MatchState.PROPOSED]: "Proposals sent, waiting for answers",
  [MatchState.NO_CANDIDATES]: "No developer available yet; waiting for one to come online",
  [MatchState.ASSIGNED]: "Assigned",
  [MatchState.CLOSED]: "Closed",
};

/** A match state in words ("Proposals sent, waiting for answers"). */
export function matchStateLabel(state: MatchState): string {
  return MATCH_STATE[state] ?? "Not matched yet";
}

const PROPOSAL_STATUS: Record<number, string> = {
  [ProposalStatus.PENDING]: "Waiting for an answer",
  [ProposalStatus.ACCEPTED]: "Accepted",
  [ProposalStatus.DECLINED]: "Declined",
  [ProposalStatus.WITHDRAWN]: "Withdrawn",
  [ProposalStatus.EXPIRED]: "Expired",
  [ProposalStatus.CANCELLED]: "Cancelled",
};

/** A proposal status in words. */
export function proposalStatusLabel(status: ProposalStatus): string {
  return PROPOSAL_STATUS[status] ?? "Unknown";
}

const PROPOSAL_REASON: Record<number, string> = {
  [ProposalReason.ANOTHER_DEVELOPER_ACCEPTED]: "another developer accepted first",
  [ProposalReason.TASK_CANCELLED]: "the client cancelled the task",
  [ProposalReason.TASK_EXPIRED]: "the task's deadline passed",
  [ProposalReason.TASK_CLOSED]: "the task was closed",
  [ProposalReason.TERMS_CHANGED]: "the task's terms changed",
  [ProposalReason.DEVELOPER_OFFLINE]: "you went offline",
  [ProposalReason.TIMED_OUT]: "not answered in time",
};

/**
 * Why a proposal was withdrawn, expired or cancelled, in words ("" when it says nothing).
 *
 * @example
 * ```ts
 * proposalReasonText(ProposalReason.TERMS_CHANGED); // "the task's terms changed"
 * ```
 */
export function proposalReasonText(reason: ProposalReason): string {
  return PROPOSAL_REASON[reason] ?? "";
}

function enumWord(values: Record<string, string | number>, value: number, prefix: string): string {
  const name = Object.entries(values).find(([, v]) => v === value)?.[0] ?? String(value);
  return name.replace(prefix, "").toLowerCase().replace(/_/g, " ");
}

/**
 * The share of matching attempts that found developers, as a percentage string ("97.5%"), or
 * "—" before the first attempt.
 *
 * @example
 * ```ts
 * percentage(39, 40); // "97.5%"
 * ```
 */
export function percentage(part: number, whole: number): string {
  if (!(whole > 0)) return "—";
  const value = (part / whole) * 100;
  return `${Number.isInteger(value) ? value : value.toFixed(1)}%`;
}
