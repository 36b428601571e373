/**
 * Human formatting of sizes, durations, counts and timestamps.
 *
 * @module
 */

/**
 * Bytes in binary units.
 *
 * @example
 * ```ts
 * formatBytes(1536); // "1.5 KiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Milliseconds as a short duration: tenths of a second under a minute, whole units above.
 *
 * @example
 * ```ts
 * formatDuration(83_500); // "1m24s"
 * formatDuration(3_600_000); // "1h"
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const total = Math.round(ms / 1000);
  const parts: string[] = [];
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours) parts.push(`${hours}h`);
  if (minutes) parts.push(`${minutes}m`);
  if (seconds) parts.push(`${seconds}s`);
  return parts.join("");
}

/**
 * An integer with thousands separators.
 *
 * @example
 * ```ts
 * formatCount(100000); // "100,000"
 * ```
 */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/**
 * A UTC timestamp for names: `20241019_153000`.
 *
 * @example
 * ```ts
 * compactStamp(new Date("2024-10-19T15:30:00Z")); // "20241019_153000"
 * ```
 */
export function compactStamp(date: Date): string {
  const iso = date.toISOString(); // 2024-10-19T15:30:00.000Z
  return `${iso.slice(0, 10).replaceAll("-", "")}_${iso.slice(11, 19).replaceAll(":", "")}`;
}

/**
 * Shortens text (such as a SQL statement) to one line of at most `max` characters.
 *
 * @example
 * ```ts
 * oneLine("SELECT *\n  FROM users", 12); // "SELECT * FR…"
 * ```
 */
export function oneLine(text: string | null | undefined, max = 100): string {
  const flat = (text ?? "").replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}
