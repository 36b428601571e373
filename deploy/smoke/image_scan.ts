/**
 * `deno task scan` inside the built app image, as the smoke test runs it: the verdict of each
 * check is printed; the smoke fails only on what the image itself got wrong (a world-writable,
 * SUID or SGID file under /app) or on a scan that printed no report. Pending Debian security
 * updates and npm advisories are reported, not fatal: the smoke proves the deployment works, and
 * CI shows the findings (the npm check needs a registry with the advisory endpoint).
 *
 * @module
 */
import { SmokeError } from "./command.ts";

/** The scan's JSON report, as much of it as the smoke reads. */
interface ScanJson {
  verdict: string;
  results: {
    check: string;
    scope: string;
    outcome: string;
    findings: { subject: string; problem: string }[];
    reason?: string;
  }[];
}

/**
 * Judges a scan run in the image: the lines to print, or a {@link SmokeError}.
 *
 * @example
 * ```ts
 * const lines = judgeImageScan(result.code, result.stdout);
 * ```
 */
export function judgeImageScan(code: number, stdout: string): string[] {
  let report: ScanJson;
  try {
    report = JSON.parse(stdout);
  } catch {
    throw new SmokeError(`deno task scan printed no report (exit ${code}):\n${stdout.slice(-800)}`);
  }
  if (![0, 1, 2].includes(code)) throw new SmokeError(`deno task scan exited ${code}`);
  const lines = report.results.map((r) =>
    `    ${r.check}: ${
      r.outcome === "scanned"
        ? `${r.findings.length} finding(s)`
        : `${r.outcome}${r.reason ? ` (${r.reason.slice(0, 160)})` : ""}`
    }${r.scope ? ` - ${r.scope.slice(0, 120)}` : ""}`
  );
  lines.push(`    verdict ${report.verdict} (exit ${code})`);
  const files = report.results.find((r) => r.check === "files");
  if (!files || files.outcome !== "scanned") {
    throw new SmokeError(`the image's files were not scanned:\n${lines.join("\n")}`);
  }
  if (files.findings.length > 0) {
    throw new SmokeError(
      `the image has files it must not have:\n${
        files.findings.map((f) => `    ${f.problem}: ${f.subject}`).join("\n")
      }`,
    );
  }
  return lines;
}
