/**
 * What one scan check found: its findings, or why it could not scan, or why it was skipped.
 * The verdict and exit code of the whole scan come from these (see {@linkcode scanExitCode}).
 *
 * @module
 */

/** One problem a check found. */
export interface ScanFinding {
  /** What is affected: a package and version, or a file. */
  subject: string;
  /** What is wrong with it, in one line. */
  problem: string;
  /** Severity, when the source gives one (advisories: low, moderate, high, critical). */
  severity?: string;
  /** Where to read more, or what fixes it. */
  detail?: string;
}

/** The result of one check. */
export interface CheckResult {
  /** The check: npm, os, files or trivy. */
  check: ScanCheck;
  /** What it looked at, in one line ("231 npm packages from deno.lock, ..."). */
  scope: string;
  /** scanned: it ran (findings may be empty); error: it could not; skipped: not asked or n/a. */
  outcome: "scanned" | "error" | "skipped";
  /** Its findings (empty unless scanned). */
  findings: ScanFinding[];
  /** Why it could not scan, or why it was skipped, and what to do. */
  reason?: string;
}

/** The checks, in report order. */
export const SCAN_CHECKS = ["npm", "os", "files", "trivy"] as const;
/** One check's name. */
export type ScanCheck = typeof SCAN_CHECKS[number];

/** CLEAN: every check ran and found nothing; FINDINGS: something found; INCOMPLETE: a check failed. */
export type ScanVerdict = "CLEAN" | "FINDINGS" | "INCOMPLETE";

/**
 * The verdict: findings win over a check that could not run (something found is news either way).
 *
 * @example
 * ```ts
 * scanVerdict([{ check: "files", scope: "/app", outcome: "scanned", findings: [] }]); // "CLEAN"
 * ```
 */
export function scanVerdict(results: CheckResult[]): ScanVerdict {
  if (results.some((r) => r.findings.length > 0)) return "FINDINGS";
  if (results.some((r) => r.outcome === "error")) return "INCOMPLETE";
  return "CLEAN";
}

/**
 * The exit code of a verdict: 0 clean, 1 findings, 2 could not scan (part of it).
 *
 * @example
 * ```ts
 * scanExitCode("INCOMPLETE"); // 2
 * ```
 */
export function scanExitCode(verdict: ScanVerdict): number {
  return verdict === "CLEAN" ? 0 : verdict === "FINDINGS" ? 1 : 2;
}
