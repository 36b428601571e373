/**
 * A consecutive-failure circuit breaker: after `threshold` failures in a row it opens, calls are
 * refused for a cooldown, then one probe goes out (half open); a success closes it, a failed probe
 * opens it again for twice as long (up to a cap). Pure state, clock injected.
 *
 * @module
 */

/** The breaker's states. */
export type BreakerState = "closed" | "open" | "half_open";

/**
 * A consecutive-failure circuit breaker. Pure state, clock injected.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "@platform/lib/runtime";
 * let now = 0;
 * const breaker = new CircuitBreaker(2, 1000, () => now);
 * breaker.failure();
 * breaker.failure();
 * console.log(breaker.state, breaker.allow()); // "open" false
 * now = 1000;
 * console.log(breaker.allow()); // true: one probe
 * breaker.success();
 * console.log(breaker.state); // "closed"
 * ```
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private cooldown: number;

  /**
   * A closed breaker.
   *
   * @param threshold Consecutive failures that open it.
   * @param baseCooldownMs How long it stays open before one probe goes out (doubled after a
   *   failed probe, up to `maxCooldownMs`).
   * @param now The clock.
   * @param maxCooldownMs The longest cooldown (default the larger of `baseCooldownMs` and 60 s).
   */
  constructor(
    private readonly threshold: number,
    private readonly baseCooldownMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxCooldownMs: number = Math.max(baseCooldownMs, 60_000),
  ) {
    this.cooldown = baseCooldownMs;
  }

  /** The current state. */
  get state(): BreakerState {
    if (this.failures < this.threshold) return "closed";
    return this.now() - this.openedAt >= this.cooldown ? "half_open" : "open";
  }

  /** True when a call may go out now (one probe at a time while half open). */
  allow(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.probing) return false;
    this.probing = true;
    return true;
  }

  /** Records a successful call. */
  success(): void {
    this.failures = 0;
    this.probing = false;
    this.cooldown = this.baseCooldownMs;
  }

  /** Records a failed call; opens (or re-opens, with a longer cooldown) the breaker. */
  failure(): void {
    const wasProbe = this.probing;
    this.probing = false;
    this.failures++;
    if (this.failures >= this.threshold) {
      if (wasProbe) this.cooldown = Math.min(this.cooldown * 2, this.maxCooldownMs);
      this.openedAt = this.now();
    }
  }
}
