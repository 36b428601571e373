/**
 * What doctor checks produce: one finding per thing looked at, with a status, a one-line summary,
 * optional details and, for a problem, the manual's suggested action. The verdict follows from
 * the worst status.
 *
 * @module
 */

/** ok: fine; info: a figure to know; warn: needs attention; fail: something is down or critical. */
export type FindingStatus = "ok" | "info" | "warn" | "fail";

/** One finding. */
export interface Finding {
  /** Section: "services", "database", "platform", "nats", "redis". */
  group: string;
  /** What was checked, e.g. "connections". */
  check: string;
  /** How it went. */
  status: FindingStatus;
  /** One line that says what was found. */
  summary: string;
  /** More lines, such as one per slow query. */
  details?: string[];
  /** What to do about a warn/fail (the manual's action, adapted). */
  action?: string[];
  /** The figures, for --json. */
  data?: unknown;
}

/** The overall verdict. */
export type Verdict = "HEALTHY" | "DEGRADED" | "UNHEALTHY";

/**
 * The verdict of a set of findings: UNHEALTHY with any fail, DEGRADED with any warn.
 *
 * @example
 * ```ts
 * verdictOf([{ group: "redis", check: "memory", status: "warn", summary: "95%" }]); // "DEGRADED"
 * ```
 */
export function verdictOf(findings: Finding[]): Verdict {
  if (findings.some((f) => f.status === "fail")) return "UNHEALTHY";
  if (findings.some((f) => f.status === "warn")) return "DEGRADED";
  return "HEALTHY";
}
