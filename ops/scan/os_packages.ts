/**
 * The OS check: Debian packages with an upgrade pending from a security source, from a simulated
 * upgrade (`apt-get -s dist-upgrade`, which needs no root and changes nothing). The app image's
 * Dockerfile removes apt's package lists, so inside it this check needs `--apt-update` (as root)
 * to fetch them first; without lists it says it could not check rather than "nothing pending".
 *
 * @module
 */
import { errorMessage } from "../shared/errors.ts";
import type { CheckResult, ScanFinding } from "./result.ts";

/** One upgrade a simulated upgrade would install. */
export interface PendingUpgrade {
  /** The package. */
  name: string;
  /** Installed version. */
  installed: string;
  /** Version it would upgrade to. */
  candidate: string;
  /** The archive it comes from ("Debian-Security:12/stable-security"). */
  origin: string;
}

/**
 * The upgrades in `apt-get -s upgrade` output (`Inst pkg [old] (new origin [arch])` lines).
 *
 * @example
 * ```ts
 * parseSimulatedUpgrade("Inst libssl3 [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])");
 * ```
 */
export function parseSimulatedUpgrade(output: string): PendingUpgrade[] {
  const out: PendingUpgrade[] = [];
  for (const line of output.split("\n")) {
    const m = /^Inst (\S+) \[([^\]]+)\] \((\S+) (.+?)(?: \[[^\]]+\])?\)/.exec(line);
    if (m) out.push({ name: m[1], installed: m[2], candidate: m[3], origin: m[4] });
  }
  return out;
}

/**
 * The pending upgrades that come from a security archive.
 *
 * @example
 * ```ts
 * securityUpgrades(parseSimulatedUpgrade(text)).length;
 * ```
 */
export function securityUpgrades(upgrades: PendingUpgrade[]): PendingUpgrade[] {
  return upgrades.filter((u) => /security/i.test(u.origin));
}

async function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  const result = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C", DEBIAN_FRONTEND: "noninteractive" },
  }).output();
  const dec = new TextDecoder();
  return { code: result.code, out: dec.decode(result.stdout) + dec.decode(result.stderr) };
}

async function hasPackageLists(dir: string): Promise<boolean> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (/_Packages(\.\w+)?$/.test(entry.name)) return true;
    }
  } catch {
    return false;
  }
  return false;
}

/** How the OS check runs. */
export interface OsScanOptions {
  /** Run `apt-get update` first (needs root and the Debian mirrors). */
  aptUpdate: boolean;
  /** apt's list directory (default /var/lib/apt/lists). */
  listsDir?: string;
}

/**
 * Runs the OS check; never throws.
 *
 * @example
 * ```ts
 * const result = await scanOsPackages({ aptUpdate: false });
 * ```
 */
export async function scanOsPackages(options: OsScanOptions): Promise<CheckResult> {
  const listsDir = options.listsDir ?? "/var/lib/apt/lists";
  const scope = "Debian packages with pending security updates (apt-get -s dist-upgrade)";
  const error = (reason: string): CheckResult => ({
    check: "os",
    scope,
    outcome: "error",
    findings: [],
    reason,
  });
  try {
    if (options.aptUpdate) {
      const update = await run("apt-get", ["update", "-qq"]);
      if (update.code !== 0) {
        return error(
          `apt-get update failed (exit ${update.code}): ${update.out.trim().slice(-300)}`,
        );
      }
    }
    if (!await hasPackageLists(listsDir)) {
      return error(
        `no apt package lists in ${listsDir} (the image removes them), so pending updates are ` +
          "unknown: run the scan as root with --apt-update, or use trivy",
      );
    }
    const simulated = await run("apt-get", ["-s", "-o", "Debug::NoLocking=1", "dist-upgrade"]);
    if (simulated.code !== 0) {
      return error(`apt-get -s dist-upgrade failed: ${simulated.out.trim().slice(-300)}`);
    }
    const all = parseSimulatedUpgrade(simulated.out);
    const security = securityUpgrades(all);
    const findings: ScanFinding[] = security.map((u) => ({
      subject: `${u.name} ${u.installed}`,
      problem: `security update to ${u.candidate} pending`,
      detail: u.origin,
    }));
    return {
      check: "os",
      scope: `${scope}: ${all.length} upgradable, ${security.length} from a security archive`,
      outcome: "scanned",
      findings,
    };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return {
        check: "os",
        scope,
        outcome: "skipped",
        findings: [],
        reason: "not a Debian system (no apt-get)",
      };
    }
    return error(errorMessage(e));
  }
}
