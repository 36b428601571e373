/**
 * A background loop with start, poke and stop: the shape of every relay, consumer and sweeper.
 * Each round says how long to wait before the next (0: at once) and whether a {@link Loop.poke}
 * may end that wait early; {@link Loop.stop} ends any wait, lets the round in progress finish and
 * resolves when the loop has ended. A round that throws is handed to `onError`, which says how
 * long to wait (a loop never ends on an error).
 *
 * @module
 */

/** How long to wait before the next round: ms (0: at once), or ms and whether a poke ends it. */
export type NextRound = number | { ms: number; wakeable: boolean };

/** What a {@link Loop} runs. */
export interface LoopOptions {
  /** One round; resolves to the wait before the next. */
  round(): Promise<NextRound>;
  /** A round that threw: report it and say how long to wait (default: 1000 ms). */
  onError?(error: unknown): NextRound;
  /** Wait before the first round, ms (default 0: at once). */
  initialDelayMs?: number;
}

/**
 * Runs rounds until stopped.
 *
 * @example
 * ```ts
 * import { Loop } from "@platform/lib/runtime";
 * let rounds = 0;
 * const loop = new Loop({ round: () => Promise.resolve(++rounds < 3 ? 0 : 60_000) });
 * loop.start();
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * await loop.stop(); // ends the 60 s wait at once
 * console.log(rounds); // 3
 * ```
 */
export class Loop {
  private running?: Promise<void>;
  private stopping = false;
  private poked = false;
  private wake?: (poke: boolean) => void;

  /**
   * A loop that has not started.
   *
   * @param options Its round, what to do when a round throws, and the first wait.
   */
  constructor(private readonly options: LoopOptions) {}

  /** True once {@link stop} was called (a long round may check it to end early). */
  get stopped(): boolean {
    return this.stopping;
  }

  /** Starts the loop in the background (again: nothing). */
  start(): void {
    this.running ??= this.run();
  }

  /** Asks for a round soon: ends a wakeable wait now, or the next one at once. */
  poke(): void {
    this.poked = true;
    this.wake?.(true);
  }

  /** Stops: ends any wait, lets the round in progress finish; resolves when the loop has ended. */
  stop(): Promise<void> {
    this.stopping = true;
    this.wake?.(false);
    return this.running ?? Promise.resolve();
  }

  /** Rounds and waits until stopped. */
  private async run(): Promise<void> {
    if (this.options.initialDelayMs) await this.sleep(this.options.initialDelayMs, true);
    while (!this.stopping) {
      let next: NextRound;
      try {
        next = await this.options.round();
      } catch (error) {
        next = this.options.onError ? this.options.onError(error) : 1000;
      }
      if (this.stopping) break;
      const { ms, wakeable } = typeof next === "number" ? { ms: next, wakeable: true } : next;
      if (ms > 0) await this.sleep(ms, wakeable);
    }
  }

  /** Waits `ms`; a poke ends the wait when `wakeable` (a stop always does). */
  private sleep(ms: number, wakeable: boolean): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (wakeable && this.poked) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.poked = false;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wake = (poke) => {
        if (!poke || wakeable) finish();
      };
    });
  }
}
