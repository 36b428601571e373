/**
 * How long to wait before trying again: doubling after each failure up to a cap, with jitter so
 * that many pages cut off at once (an Orchestrator restarting) do not all come back in the same
 * instant.
 *
 * @module
 */

/** The waits a retry loop uses, in milliseconds. */
export interface BackoffSettings {
  /** The wait after the first failure; it doubles with each further one. */
  firstMs: number;
  /** The longest wait. */
  maxMs: number;
  /** Each wait is drawn from [wait * (1 - jitter), wait]; 0 for exact waits. */
  jitter: number;
}

/**
 * The wait before attempt number `failures + 1`; 0 failures gives the first wait, as after a
 * clean end.
 *
 * @example
 * ```ts
 * const settings = { firstMs: 500, maxMs: 8000, jitter: 0 };
 * backoffDelay(1, settings); // 500
 * backoffDelay(3, settings); // 2000
 * backoffDelay(9, settings); // 8000
 * ```
 */
export function backoffDelay(
  failures: number,
  settings: BackoffSettings,
  random: () => number = Math.random,
): number {
  const doublings = Math.max(0, failures - 1);
  const wait = Math.min(settings.firstMs * 2 ** Math.min(doublings, 30), settings.maxMs);
  return Math.round(wait * (1 - settings.jitter * random()));
}
