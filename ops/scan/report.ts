/**
 * The scan report as text: per check what it looked at and what it found, then the verdict.
 *
 * @module
 */
import { scanExitCode } from "./result.ts";
import type { ScanReport } from "./run_scan.ts";

const TITLE = {
  npm: "npm dependencies against the registry's advisories",
  os: "OS packages",
  files: "File permissions",
  trivy: "trivy",
};

/**
 * Renders the report for a person.
 *
 * @example
 * ```ts
 * output.line(renderScanReport(report));
 * ```
 */
export function renderScanReport(report: ScanReport): string {
  const lines = [`Freelance Platform security scan, ${report.generatedAt}`];
  for (const r of report.results) {
    lines.push("", `${TITLE[r.check]}${r.scope ? `: ${r.scope}` : ""}`);
    if (r.outcome === "skipped") lines.push(`  [SKIP] ${r.reason ?? ""}`);
    else if (r.outcome === "error") lines.push(`  [FAIL] could not scan: ${r.reason ?? ""}`);
    else if (r.findings.length === 0) lines.push("  [ OK ] nothing found");
    else if (r.reason) lines.push(`  [WARN] ${r.reason}`);
    for (const f of r.findings) {
      lines.push(`  [FIND] ${f.severity ? `${f.severity}: ` : ""}${f.subject}: ${f.problem}`);
      if (f.detail) lines.push(`         ${f.detail}`);
    }
  }
  const count = report.results.reduce((n, r) => n + r.findings.length, 0);
  const failed = report.results.filter((r) => r.outcome === "error").map((r) => r.check);
  lines.push(
    "",
    `Verdict: ${report.verdict}` +
      (count ? `, ${count} finding${count === 1 ? "" : "s"}` : "") +
      (failed.length ? `; could not scan: ${failed.join(", ")}` : "") +
      ` (exit ${scanExitCode(report.verdict)})`,
  );
  if (count > 0) {
    lines.push(
      "What to do: upgrade the npm packages named (deno.json, then ./deno install), rebuild the " +
        "image for OS updates (docker build --pull), and chmod o-w / u-s the files named; a " +
        "suspected breach goes to the security contact (deno task emergency contacts).",
    );
  }
  return lines.join("\n");
}
