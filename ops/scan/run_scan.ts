/**
 * A security scan: the checks asked for, run concurrently, each one's failure its own result.
 *
 * @module
 */
import { scanFileModes } from "./file_modes.ts";
import { scanNpm } from "./npm_advisories.ts";
import { scanOsPackages } from "./os_packages.ts";
import {
  type CheckResult,
  SCAN_CHECKS,
  type ScanCheck,
  type ScanVerdict,
  scanVerdict,
} from "./result.ts";
import { scanWithTrivy } from "./trivy.ts";

/** What to scan. */
export interface ScanOptions {
  /** The repository (lock files) and the tree whose file modes are checked (`/app` in the image). */
  root: string;
  /** The npm registry. */
  registry: string;
  /** Run `apt-get update` before the OS check. */
  aptUpdate: boolean;
  /** An image for trivy instead of this file system. */
  image?: string;
  /** Checks to leave out. */
  skip: ScanCheck[];
}

/** The scan's report. */
export interface ScanReport {
  /** When, ISO 8601 UTC. */
  generatedAt: string;
  /** CLEAN, FINDINGS or INCOMPLETE. */
  verdict: ScanVerdict;
  /** One result per check, in {@linkcode SCAN_CHECKS} order. */
  results: CheckResult[];
}

/** The lock files the npm check reads, relative to the root. */
export const LOCK_FILES = ["deno.lock", "tools/package-lock.json"];

/**
 * Runs the scan.
 *
 * @example
 * ```ts
 * const report = await runScan({ root: ".", registry: "https://registry.npmjs.org", aptUpdate: false, skip: [] });
 * ```
 */
export async function runScan(options: ScanOptions): Promise<ScanReport> {
  const run: Record<ScanCheck, () => Promise<CheckResult>> = {
    npm: () => scanNpm({ root: options.root, lockFiles: LOCK_FILES, registry: options.registry }),
    os: () => scanOsPackages({ aptUpdate: options.aptUpdate }),
    files: () => scanFileModes(options.root),
    trivy: () => scanWithTrivy({ image: options.image }),
  };
  const results = await Promise.all(
    SCAN_CHECKS.map((check) =>
      options.skip.includes(check)
        ? Promise.resolve<CheckResult>({
          check,
          scope: "",
          outcome: "skipped",
          findings: [],
          reason: "--skip",
        })
        : run[check]()
    ),
  );
  return { generatedAt: new Date().toISOString(), verdict: scanVerdict(results), results };
}
