/**
 * trivy, when installed: its vulnerability scan of the file system (`trivy rootfs /` inside the
 * image) or of a named image (`--image`), HIGH and CRITICAL findings reported. Absent: skipped
 * and said so (the other checks do not need it).
 *
 * @module
 */
import { errorMessage } from "../shared/errors.ts";
import type { CheckResult, ScanFinding } from "./result.ts";

interface TrivyReport {
  Results?: {
    Target?: string;
    Vulnerabilities?: {
      VulnerabilityID: string;
      PkgName: string;
      InstalledVersion: string;
      FixedVersion?: string;
      Severity: string;
      Title?: string;
      PrimaryURL?: string;
    }[];
  }[];
}

/**
 * The HIGH and CRITICAL vulnerabilities of a trivy JSON report.
 *
 * @example
 * ```ts
 * trivyFindings(JSON.parse(jsonText));
 * ```
 */
export function trivyFindings(report: TrivyReport): ScanFinding[] {
  const findings: ScanFinding[] = [];
  for (const result of report.Results ?? []) {
    for (const v of result.Vulnerabilities ?? []) {
      if (v.Severity !== "HIGH" && v.Severity !== "CRITICAL") continue;
      findings.push({
        subject: `${v.PkgName} ${v.InstalledVersion}`,
        severity: v.Severity.toLowerCase(),
        problem: `${v.VulnerabilityID}${v.Title ? `: ${v.Title}` : ""}`,
        detail: [
          v.FixedVersion ? `fixed in ${v.FixedVersion}` : "no fix yet",
          result.Target,
          v.PrimaryURL,
        ].filter(Boolean).join("; "),
      });
    }
  }
  return findings;
}

/**
 * Runs trivy on an image, or on this file system; never throws.
 *
 * @example
 * ```ts
 * await scanWithTrivy({ image: "freelance-platform/userservice:latest" });
 * ```
 */
export async function scanWithTrivy(options: { image?: string }): Promise<CheckResult> {
  const args = options.image
    ? ["image", "--quiet", "--format", "json", "--scanners", "vuln", options.image]
    : ["rootfs", "--quiet", "--format", "json", "--scanners", "vuln", "/"];
  const scope = `trivy ${args[0]} ${args.at(-1)} (HIGH and CRITICAL)`;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("trivy", { args, stdout: "piped", stderr: "piped" }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return {
        check: "trivy",
        scope,
        outcome: "skipped",
        findings: [],
        reason: "trivy is not installed (not in Debian; https://trivy.dev): the checks above " +
          "cover npm and Debian packages without it",
      };
    }
    return { check: "trivy", scope, outcome: "error", findings: [], reason: errorMessage(error) };
  }
  const text = new TextDecoder().decode(output.stdout);
  if (output.code !== 0) {
    const err = new TextDecoder().decode(output.stderr).trim().slice(-300);
    return {
      check: "trivy",
      scope,
      outcome: "error",
      findings: [],
      reason: `exit ${output.code}: ${err}`,
    };
  }
  try {
    return { check: "trivy", scope, outcome: "scanned", findings: trivyFindings(JSON.parse(text)) };
  } catch (error) {
    return {
      check: "trivy",
      scope,
      outcome: "error",
      findings: [],
      reason: `unreadable report: ${errorMessage(error)}`,
    };
  }
}
