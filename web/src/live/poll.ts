/**
 * Repeats a load on an interval and hands each result on, for what has no notification stream:
 * the operators' status page (health and metrics) and the outage banner's probe of a service that
 * is down. (The views of proposals and tasks reload on notifications instead: `reloader.ts`.)
 * After a failure it waits longer each time (up to a limit) and goes back to the normal pace on the
 * first success.
 *
 * @module
 */

/** A running poll. */
export interface Poll {
  /** Loads again now (after an action whose effect the person expects to see at once). */
  refresh(): void;
  /** Stops for good; a load in flight is aborted and its result dropped. */
  stop(): void;
}

/** How often and what to do with the outcome. */
export interface PollOptions<T> {
  intervalMs: number;
  /** The longest wait after failures (default: 3 intervals, so a recovery shows within seconds). */
  maxBackoffMs?: number;
  onValue(value: T): void;
  onError?(error: unknown): void;
}

/**
 * Starts polling at once.
 *
 * @example
 * ```ts
 * const poll = startPoll((signal) => api.orchestrator.listProposals({}, { signal }), {
 *   intervalMs: 2000,
 *   onValue: ({ proposals }) => render(proposals),
 *   onError: (error) => show(error),
 * });
 * // later: poll.stop();
 * ```
 */
export function startPoll<T>(
  load: (signal: AbortSignal) => Promise<T>,
  options: PollOptions<T>,
): Poll {
  const maxBackoff = options.maxBackoffMs ?? options.intervalMs * 3;
  let stopped = false;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | undefined;

  const schedule = (delay: number) => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(run, delay);
  };

  async function run() {
    if (stopped) return;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    try {
      const value = await load(controller.signal);
      if (stopped || controller.signal.aborted) return;
      failures = 0;
      options.onValue(value);
    } catch (error) {
      if (stopped || controller.signal.aborted) return;
      failures++;
      options.onError?.(error);
    }
    if (inFlight === controller) inFlight = undefined;
    schedule(
      failures === 0
        ? options.intervalMs
        : Math.min(options.intervalMs * 2 ** (failures - 1), maxBackoff),
    );
  }

  schedule(0);
  return {
    refresh: () => schedule(0),
    stop() {
      stopped = true;
      clearTimeout(timer);
      inFlight?.abort();
    },
  };
}
