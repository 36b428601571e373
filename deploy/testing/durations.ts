/**
 * Durations as Compose and Prometheus write them ("30s", "1m30s", "2h").
 *
 * @module
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Milliseconds in a duration such as `1m30s`; throws on anything else.
 *
 * @example
 * ```ts
 * parseDurationMs("1m30s"); // 90000
 * ```
 */
export function parseDurationMs(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
    throw new Error(`not a duration: ${JSON.stringify(text)}`);
  }
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * UNITS[unit], 0);
}
