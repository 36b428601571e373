/**
 * Running in the background: a loop with start, poke and stop (every relay, consumer and sweeper
 * is one), retry with backoff, and a circuit breaker.
 *
 * @example
 * ```ts
 * import { backoffDelay, CircuitBreaker, Loop } from "@platform/lib/runtime";
 * const breaker = new CircuitBreaker(3, 5000);
 * const loop = new Loop({ round: () => Promise.resolve(backoffDelay(0, { initialMs: 1000 })) });
 * console.log(breaker.state); // "closed"
 * loop.start();
 * await loop.stop();
 * ```
 *
 * @module
 */
export * from "./backoff.ts";
export * from "./circuit_breaker.ts";
export * from "./loop.ts";
