/**
 * `deno task scan`: the manual's "Security Scanning" as one command: the npm dependencies of the
 * lock files against the npm registry's advisories, Debian packages with pending security updates,
 * world-writable and SUID/SGID files, and trivy when installed. See docs/operations.md.
 *
 * @example
 * ```sh
 * deno task scan                         # from the repository root, or /app in the image
 * deno task scan --apt-update            # as root in the image: fetch apt's lists first
 * deno task scan --skip npm,trivy --json
 * ```
 *
 * @module
 */
import { parseFlags, runMain } from "./shared/cli.ts";
import { UsageError } from "./shared/errors.ts";
import type { Output } from "./shared/output.ts";
import { renderScanReport } from "./scan/report.ts";
import { SCAN_CHECKS, type ScanCheck, scanExitCode } from "./scan/result.ts";
import { runScan } from "./scan/run_scan.ts";

const USAGE =
  `Usage: deno task scan [--root DIR] [--skip CHECK,...] [--apt-update] [--image NAME] [--json]

Checks, each reported on its own:
  npm    deno.lock and tools/package-lock.json against the npm registry's advisories (the bulk
         endpoint npm audit uses; NPM_CONFIG_REGISTRY, else https://registry.npmjs.org)
  os     Debian packages with an update pending from a security archive (apt-get -s dist-upgrade)
  files  regular files under the root that are world-writable, SUID or SGID (the manual's find)
  trivy  trivy rootfs / (or trivy image NAME with --image), HIGH and CRITICAL; skipped if absent

  --root DIR     the repository root and the tree whose files are checked (default: .)
  --skip CHECKS  comma-separated: ${SCAN_CHECKS.join(", ")}
  --apt-update   run apt-get update first (root; the app image keeps no package lists)
  --image NAME   trivy scans this image instead of the file system
  --json         the report as JSON on stdout

Exit codes: 0 clean, 1 findings, 2 a check could not scan (and nothing found), 64 bad usage.`;

/**
 * The scan program; returns its exit code.
 *
 * @example
 * ```ts
 * const code = await scanCli(["--skip", "trivy"], Output.console());
 * ```
 */
export async function scanCli(
  args: string[],
  output: Output,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<number> {
  const { flags, positionals } = parseFlags(args, {
    boolean: ["json", "apt-update"],
    string: ["root", "skip", "image"],
  });
  if (flags.help) {
    output.line(USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`, USAGE);
  }
  const skip = ((flags.skip as string | undefined) ?? "").split(",").map((s) => s.trim())
    .filter(Boolean);
  for (const check of skip) {
    if (!(SCAN_CHECKS as readonly string[]).includes(check)) {
      throw new UsageError(`--skip: unknown check "${check}" (checks: ${SCAN_CHECKS.join(", ")})`);
    }
  }
  output.progress("scanning ...");
  const report = await runScan({
    root: (flags.root as string | undefined) ?? ".",
    registry: env.NPM_CONFIG_REGISTRY || env.npm_config_registry || "https://registry.npmjs.org",
    aptUpdate: flags["apt-update"] === true,
    image: flags.image as string | undefined,
    skip: skip as ScanCheck[],
  });
  output.clearProgress();
  output.line(flags.json ? JSON.stringify(report, null, 2) : renderScanReport(report));
  return scanExitCode(report.verdict);
}

if (import.meta.main) await runMain((output) => scanCli(Deno.args, output));
