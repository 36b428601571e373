/**
 * Retry with backoff: the delay before a retry ({@link backoffDelay}, exponential, capped,
 * optionally jittered) and {@link retry}, which calls a function again on the errors it is told
 * are transient.
 *
 * @module
 */

/** How delays grow between retries. */
export interface BackoffPolicy {
  /** The first delay, ms. */
  initialMs: number;
  /** Each next delay is this many times the last (default 2). */
  factor?: number;
  /** The longest delay, ms (default: no cap). */
  maxMs?: number;
  /** Multiply each delay by a random 0.5..1.5, so that many callers do not retry in step. */
  jitter?: boolean;
}

/**
 * The delay before retry number `attempt` (0 for the first retry): `initialMs * factor^attempt`,
 * at most `maxMs`, jittered when asked.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "@platform/lib/runtime";
 * const policy = { initialMs: 200, maxMs: 5000 };
 * console.log([0, 1, 2, 5, 9].map((n) => backoffDelay(n, policy))); // [200, 400, 800, 5000, 5000]
 * ```
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  const { initialMs, factor = 2, maxMs = Infinity, jitter = false } = policy;
  const delay = Math.min(initialMs * factor ** Math.max(0, attempt), maxMs);
  return jitter ? delay * (0.5 + Math.random()) : delay;
}

/** Settings of {@link retry}. */
export interface RetryOptions {
  /** Retries after the first try. */
  retries: number;
  /** The delays between tries. */
  backoff: BackoffPolicy;
  /** True for an error worth another try; any other is thrown at once. */
  transient(error: unknown): boolean;
}

/** Every try failed with a transient error; `cause` is the last one. */
export class RetriesExhaustedError extends Error {
  /**
   * The error thrown by {@link retry} when no try succeeded.
   *
   * @param tries How many tries were made.
   * @param cause The last try's error.
   */
  constructor(readonly tries: number, cause: unknown) {
    super(`failed after ${tries} tries: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = "RetriesExhaustedError";
  }
}

/**
 * Calls `fn` until it resolves, at most `retries + 1` times, waiting {@link backoffDelay} between
 * tries; a non-transient error is thrown as it is, the last transient one wrapped in
 * {@link RetriesExhaustedError}.
 *
 * @example
 * ```ts
 * import { retry } from "@platform/lib/runtime";
 * let calls = 0;
 * const answer = await retry(() => ++calls < 3 ? Promise.reject(new Error("busy")) : Promise.resolve(42), {
 *   retries: 2,
 *   backoff: { initialMs: 1 },
 *   transient: (error) => (error as Error).message === "busy",
 * });
 * console.log(answer, calls); // 42 3
 * ```
 */
export async function retry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  let last: unknown;
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    if (attempt > 0) await sleep(backoffDelay(attempt - 1, options.backoff));
    try {
      return await fn();
    } catch (error) {
      if (!options.transient(error)) throw error;
      last = error;
    }
  }
  throw new RetriesExhaustedError(options.retries + 1, last);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
