/**
 * The doctor's report as text: findings by group, then the verdict and what to do for each problem.
 *
 * @module
 */
import type { Finding } from "./finding.ts";
import type { DoctorReport } from "./run_doctor.ts";

const LABEL: Record<Finding["status"], string> = {
  ok: "[ OK ]",
  info: "[INFO]",
  warn: "[WARN]",
  fail: "[FAIL]",
};

const TITLE: Record<string, string> = {
  services: "Services (/health)",
  database: "PostgreSQL",
  platform: "Platform data (the manual's daily checks)",
  nats: "NATS JetStream",
  redis: "Redis",
};

/**
 * Renders the report.
 *
 * @example
 * ```ts
 * output.line(renderDoctorReport(report));
 * ```
 */
export function renderDoctorReport(report: DoctorReport): string {
  const lines: string[] = [`Freelance Platform doctor, ${report.generatedAt}`];
  const groups = [...new Set(report.findings.map((f) => f.group))];
  for (const group of groups) {
    lines.push("", TITLE[group] ?? group);
    const findings = report.findings.filter((f) => f.group === group);
    const width = Math.max(...findings.map((f) => f.check.length));
    for (const f of findings) {
      lines.push(`  ${LABEL[f.status]} ${f.check.padEnd(width)}  ${f.summary}`);
      for (const detail of f.details ?? []) lines.push(`         ${" ".repeat(width)}  ${detail}`);
    }
  }
  if (report.skipped.length > 0) lines.push("", `Skipped: ${report.skipped.join(", ")}`);
  const problems = report.findings.filter((f) => f.status === "warn" || f.status === "fail");
  const fails = problems.filter((f) => f.status === "fail").length;
  lines.push(
    "",
    `Verdict: ${report.verdict}` +
      (problems.length === 0
        ? " (no problems found)"
        : ` (${fails} critical, ${problems.length - fails} warning${
          problems.length - fails === 1 ? "" : "s"
        })`),
  );
  if (problems.length > 0) {
    lines.push("", "What to do:");
    problems.forEach((f, i) => {
      lines.push(
        `  ${i + 1}. ${
          f.status === "fail" ? "CRITICAL" : "warning"
        }: ${f.group} ${f.check}: ${f.summary}`,
      );
      for (const step of f.action ?? []) lines.push(`     - ${step}`);
    });
  }
  return lines.join("\n");
}
