/**
 * Bounded concurrency with per-key order: at most `concurrency` jobs run at once in this process,
 * and jobs with the same key (a task id) run one after another in the order they were submitted,
 * so two attempts for one task never overlap here. Submission order is delivery order only within
 * one consumer: task.created and the other task events come through two consumers, so an update
 * or a cancellation may run before its task.created when that consumer lags; the task's row lock,
 * its tombstone and its terms version keep the outcome right either way (and across replicas).
 * Waiting costs a promise, no timer; a job waiting here keeps its event's ack timer running, so
 * `EVENT_ACK_WAIT_SECONDS` must exceed the longest wait (a redelivery while waiting only repeats
 * work that the terms version and attempt count make harmless).
 *
 * @module
 */

/**
 * Runs jobs keyed by id with a global limit.
 *
 * @example
 * ```ts
 * const limiter = new KeyedLimiter(8);
 * await limiter.run(taskId, () => matcher.attemptNow(taskId));
 * ```
 */
export class KeyedLimiter {
  private readonly tails = new Map<string, Promise<void>>();
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError("concurrency must be a positive integer");
    }
  }

  /** Jobs running now. */
  get running(): number {
    return this.active;
  }

  /** Keys with a job running or queued. */
  get keys(): number {
    return this.tails.size;
  }

  /** Runs `work` after the key's earlier jobs, once a slot is free; its result or error. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = previous ? previous.then(() => done) : done;
    this.tails.set(key, tail);
    try {
      if (previous) await previous;
      await this.acquire();
      try {
        return await work();
      } finally {
        this.releaseSlot();
      }
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.waiting.shift();
    if (next) next(); // the slot passes straight on
    else this.active--;
  }
}
