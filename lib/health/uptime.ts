/**
 * Durations in Go's `time.Duration.String()` form, as the manual's `/health` shows them.
 *
 * @module
 */

/**
 * Formats whole seconds the way Go prints a duration truncated to the second.
 *
 * @example
 * ```ts
 * formatGoDuration((72 * 3600 + 30 * 60 + 15) * 1000); // "72h30m15s"
 * formatGoDuration(0); // "0s"
 * formatGoDuration(61_000); // "1m1s"
 * ```
 */
export function formatGoDuration(milliseconds: number): string {
  const total = Math.max(0, Math.floor(milliseconds / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
