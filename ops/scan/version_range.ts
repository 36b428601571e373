/**
 * Whether a version is inside an advisory's `vulnerable_versions` range. Advisory ranges use plain
 * comparators (`<1.2.6`, `>=2.0.0 <2.1.4`, joined by `||`); a range written otherwise (`^`, `~`,
 * `x`) is not understood and counts as affected, so a scan never misses one silently.
 *
 * @module
 */

type Version = [number, number, number, string];

function parseVersion(text: string): Version | null {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$/.exec(text.trim());
  if (!m) return null;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0), m[4] ?? ""];
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  if (a[3] === b[3]) return 0;
  if (a[3] === "") return 1; // a release is above its prereleases
  if (b[3] === "") return -1;
  return a[3] < b[3] ? -1 : 1;
}

/**
 * True when `version` satisfies `range` (or the range cannot be read: conservative).
 *
 * @example
 * ```ts
 * inRange("1.2.5", ">=1.0.0 <1.2.6"); // true
 * inRange("1.2.8", "<1.2.6 || >=2.0.0 <2.0.3"); // false
 * ```
 */
export function inRange(version: string, range: string): boolean {
  const v = parseVersion(version);
  if (!v) return true;
  const trimmed = range.trim();
  if (trimmed === "" || trimmed === "*") return true;
  return trimmed.split("||").some((set) => {
    const comparators = set.trim().replace(/([<>=]+)\s+/g, "$1").split(/\s+/).filter(Boolean);
    return comparators.every((c) => {
      const m = /^(<=|>=|<|>|=)?(.+)$/.exec(c);
      const bound = m && parseVersion(m[2]);
      if (!m || !bound) return true; // not understood: affected
      const cmp = compare(v, bound);
      switch (m[1] ?? "=") {
        case "<":
          return cmp < 0;
        case "<=":
          return cmp <= 0;
        case ">":
          return cmp > 0;
        case ">=":
          return cmp >= 0;
        default:
          return cmp === 0;
      }
    });
  });
}
