/**
 * The files check, the manual's `find /app -type f -perm /o+w` and `-perm /u+s` in Deno: regular
 * files anyone may write, and files that run as their owner (SUID) or group (SGID). Symbolic links
 * are not followed; unreadable directories are reported, not fatal.
 *
 * @module
 */
import { errorMessage } from "../shared/errors.ts";
import type { CheckResult, ScanFinding } from "./result.ts";

/**
 * What is wrong with a file's mode, if anything.
 *
 * @example
 * ```ts
 * modeProblems(0o100666); // ["world-writable"]
 * modeProblems(0o104755); // ["SUID"]
 * ```
 */
export function modeProblems(mode: number): string[] {
  const problems: string[] = [];
  if (mode & 0o002) problems.push("world-writable");
  if (mode & 0o4000) problems.push("SUID");
  if (mode & 0o2000) problems.push("SGID");
  return problems;
}

/**
 * Walks `root` and reports every regular file with a problem mode; never throws.
 *
 * @example
 * ```ts
 * const result = await scanFileModes("/app");
 * ```
 */
export async function scanFileModes(root: string): Promise<CheckResult> {
  const findings: ScanFinding[] = [];
  const unreadable: string[] = [];
  let files = 0;
  const walk = async (dir: string): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (error) {
      unreadable.push(`${dir}: ${errorMessage(error)}`);
      return;
    }
    for (const entry of entries) {
      const path = `${dir}/${entry.name}`;
      if (entry.isSymlink) continue;
      if (entry.isDirectory) {
        await walk(path);
        continue;
      }
      if (!entry.isFile) continue;
      files++;
      let info: Deno.FileInfo;
      try {
        info = await Deno.lstat(path);
      } catch (error) {
        unreadable.push(`${path}: ${errorMessage(error)}`);
        continue;
      }
      for (const problem of modeProblems(info.mode ?? 0)) {
        findings.push({
          subject: path,
          problem,
          detail: `mode ${
            ((info.mode ?? 0) & 0o7777).toString(8).padStart(4, "0")
          }, uid ${info.uid}`,
        });
      }
    }
  };
  const base = root.replace(/\/+$/, "") || "/";
  try {
    const info = await Deno.stat(base);
    if (!info.isDirectory) throw new Error("not a directory");
  } catch (error) {
    return {
      check: "files",
      scope: base,
      outcome: "error",
      findings: [],
      reason: `cannot scan ${base}: ${errorMessage(error)}`,
    };
  }
  await walk(base === "/" ? "" : base);
  const result: CheckResult = {
    check: "files",
    scope: `${files} files under ${base} (world-writable, SUID, SGID)`,
    outcome: "scanned",
    findings,
  };
  if (unreadable.length > 0) {
    result.outcome = findings.length > 0 ? "scanned" : "error";
    result.reason = `${unreadable.length} path(s) could not be read, e.g. ${unreadable[0]}`;
  }
  return result;
}
