/**
 * The scale benchmark's sizes: `10k/100k,100k/1m` is two platforms, 10,000 developers with
 * 100,000 tasks and 100,000 with 1,000,000.
 *
 * @module
 */
import type { PlatformSize } from "./seed.ts";

function count(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a count (such as 2000, 10k or 1m)`);
  const n = Number(match[1]) * ({ "": 1, k: 1e3, m: 1e6 }[match[2].toLowerCase()] ?? 1);
  if (!Number.isInteger(n) || n < 1000) throw new Error(`"${text}": at least 1000 (1k)`);
  return n;
}

/**
 * Parses `developers/tasks` pairs separated by commas.
 *
 * @example
 * ```ts
 * parseSizes("10k/100k,100k/1m"); // [{ developers: 10000, tasks: 100000 }, ...]
 * ```
 */
export function parseSizes(text: string): PlatformSize[] {
  const sizes = text.split(",").filter((s) => s.trim() !== "").map((pair) => {
    const [developers, tasks, extra] = pair.split("/");
    if (tasks === undefined || extra !== undefined) {
      throw new Error(`"${pair}" is not developers/tasks (such as 10k/100k)`);
    }
    return { developers: count(developers), tasks: count(tasks) };
  });
  if (sizes.length === 0) throw new Error("no sizes given");
  return sizes;
}
