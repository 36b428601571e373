/**
 * The npm check: every package the lock files pin, sent to the npm registry's bulk advisory
 * endpoint (`POST /-/npm/v1/security/advisories/bulk`, what `npm audit` uses), and the advisories
 * whose range covers a pinned version become findings.
 *
 * @module
 */
import { errorMessage } from "../shared/errors.ts";
import { addPin, denoLockPackages, packageLockPackages, type PinnedPackages } from "./lockfiles.ts";
import type { CheckResult, ScanFinding } from "./result.ts";
import { inRange } from "./version_range.ts";

/** One advisory as the bulk endpoint returns it. */
export interface NpmAdvisory {
  /** The advisory's id. */
  id: number;
  /** Where to read it (a GitHub advisory). */
  url: string;
  /** Its title. */
  title: string;
  /** low, moderate, high or critical. */
  severity: string;
  /** The affected versions, as a range. */
  vulnerable_versions: string;
}

/** Where the npm check reads from. */
export interface NpmScanOptions {
  /** Lock files to read, relative to `root` (missing ones are skipped and said so). */
  lockFiles: string[];
  /** The repository root. */
  root: string;
  /** The registry (`NPM_CONFIG_REGISTRY`, else https://registry.npmjs.org). */
  registry: string;
  /** How long to wait for the registry (ms). */
  timeoutMs?: number;
}

const SEVERITY_ORDER = ["critical", "high", "moderate", "low", "info"];

/**
 * Reads the pins of the lock files that exist.
 *
 * @example
 * ```ts
 * const { pins, read } = await readPins(".", ["deno.lock", "tools/package-lock.json"]);
 * ```
 */
export async function readPins(
  root: string,
  lockFiles: string[],
): Promise<{ pins: PinnedPackages; read: string[]; missing: string[] }> {
  const pins: PinnedPackages = new Map();
  const read: string[] = [];
  const missing: string[] = [];
  for (const file of lockFiles) {
    let text: string;
    try {
      text = await Deno.readTextFile(`${root}/${file}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        missing.push(file);
        continue;
      }
      throw error;
    }
    const packages = file.endsWith("deno.lock")
      ? denoLockPackages(text)
      : packageLockPackages(text);
    for (const [name, version] of packages) addPin(pins, name, version, file);
    read.push(file);
  }
  return { pins, read, missing };
}

/**
 * The findings for pinned versions that an advisory covers; sorted most severe first.
 *
 * @example
 * ```ts
 * matchAdvisories(pins, { minimist: [{ id: 1, url: "u", title: "t", severity: "high", vulnerable_versions: "<1.2.6" }] });
 * ```
 */
export function matchAdvisories(
  pins: PinnedPackages,
  advisories: Record<string, NpmAdvisory[]>,
): ScanFinding[] {
  const findings: ScanFinding[] = [];
  for (const [name, list] of Object.entries(advisories)) {
    const versions = pins.get(name);
    if (!versions) continue;
    for (const advisory of list) {
      for (const [version, sources] of versions) {
        if (!inRange(version, advisory.vulnerable_versions)) continue;
        findings.push({
          subject: `${name}@${version}`,
          severity: advisory.severity,
          problem: advisory.title,
          detail: `${advisory.url} (vulnerable ${advisory.vulnerable_versions}; pinned in ${
            [...sources].join(", ")
          })`,
        });
      }
    }
  }
  const rank = (s?: string) => {
    const i = SEVERITY_ORDER.indexOf(s ?? "");
    return i < 0 ? SEVERITY_ORDER.length : i;
  };
  return findings.sort((a, b) =>
    rank(a.severity) - rank(b.severity) || a.subject.localeCompare(b.subject)
  );
}

/**
 * Runs the npm check; a registry that cannot be asked makes an `error` result, never a throw.
 *
 * @example
 * ```ts
 * const result = await scanNpm({ root: ".", lockFiles: ["deno.lock"], registry: "https://registry.npmjs.org" });
 * ```
 */
export async function scanNpm(options: NpmScanOptions): Promise<CheckResult> {
  const registry = options.registry.replace(/\/+$/, "");
  let pins: PinnedPackages;
  let scope: string;
  try {
    const found = await readPins(options.root, options.lockFiles);
    pins = found.pins;
    const count = [...pins.values()].reduce((n, v) => n + v.size, 0);
    scope = `${count} npm package versions from ${found.read.join(" and ") || "no lock file"}` +
      (found.missing.length ? ` (${found.missing.join(", ")} absent)` : "") + `, via ${registry}`;
    if (found.read.length === 0) {
      return {
        check: "npm",
        scope,
        outcome: "error",
        findings: [],
        reason: `no lock file found under ${options.root}: run from the repository root or --root`,
      };
    }
  } catch (error) {
    return {
      check: "npm",
      scope: options.lockFiles.join(", "),
      outcome: "error",
      findings: [],
      reason: `cannot read the lock files: ${errorMessage(error)}`,
    };
  }
  const body: Record<string, string[]> = {};
  for (const [name, versions] of pins) body[name] = [...versions.keys()];
  const url = `${registry}/-/npm/v1/security/advisories/bulk`;
  let advisories: Record<string, NpmAdvisory[]>;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return {
        check: "npm",
        scope,
        outcome: "error",
        findings: [],
        reason: `the registry answered ${response.status} ${response.statusText} to POST ${url}` +
          ` (a mirror without the advisory endpoint? set NPM_CONFIG_REGISTRY to one that has it)`,
      };
    }
    advisories = await response.json();
  } catch (error) {
    return {
      check: "npm",
      scope,
      outcome: "error",
      findings: [],
      reason: `cannot ask ${url}: ${errorMessage(error)}`,
    };
  }
  return { check: "npm", scope, outcome: "scanned", findings: matchAdvisories(pins, advisories) };
}
