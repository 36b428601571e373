/**
 * Loads a view's data once, then again whenever there is a reason: a notification about it, a
 * person's own action, or (slowly) the safety-net timer. Reasons that come while a load runs are
 * folded into one more load after it, and a burst of them into one; a failed load is retried
 * with backoff until one succeeds, so a view recovers by itself after an outage.
 *
 * @module
 */
import { backoffDelay, type BackoffSettings } from "./backoff.ts";

/** A running reloader. */
export interface Reloader {
  /** Loads again soon (reasons within a few milliseconds are folded into one load). */
  reload(): void;
  /** Stops for good; a load in flight is aborted and its result dropped. */
  stop(): void;
}

/** When to load and what to do with the outcome. */
export interface ReloaderOptions<T> {
  /** After a successful load, load again this long after it even without a reason; 0: never. */
  refreshMs: number;
  /** Waits after failed loads (default: 1 s doubling to 8 s, no jitter). */
  retry?: BackoffSettings;
  onValue(value: T): void;
  onError?(error: unknown): void;
}

/** Reasons to reload closer together than this make one load. */
export const RELOAD_COALESCE_MS = 40;

/** The default waits after failed loads. */
export const RELOAD_RETRY: BackoffSettings = { firstMs: 1000, maxMs: 8000, jitter: 0 };

/**
 * Starts loading at once.
 *
 * @example
 * ```ts
 * const reloader = startReloader((signal) => api.tasks.listTasks({ mine: true }, { signal }), {
 *   refreshMs: 30_000,
 *   onValue: ({ tasks }) => render(tasks),
 *   onError: (error) => show(error),
 * });
 * notifications.subscribe({ onNotification: () => reloader.reload() });
 * ```
 */
export function startReloader<T>(
  load: (signal: AbortSignal) => Promise<T>,
  options: ReloaderOptions<T>,
): Reloader {
  const retry = options.retry ?? RELOAD_RETRY;
  let stopped = false;
  let loading: AbortController | undefined;
  let again = false;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let dueAt = Infinity;

  // Never postpones a load already due sooner.
  const schedule = (delay: number) => {
    if (stopped) return;
    const due = Date.now() + delay;
    if (timer !== undefined && due >= dueAt) return;
    clearTimeout(timer);
    dueAt = due;
    timer = setTimeout(() => {
      timer = undefined;
      dueAt = Infinity;
      void run();
    }, delay);
  };

  async function run() {
    if (stopped) return;
    if (loading) {
      again = true;
      return;
    }
    clearTimeout(timer);
    timer = undefined;
    dueAt = Infinity;
    again = false;
    const controller = new AbortController();
    loading = controller;
    try {
      const value = await load(controller.signal);
      if (stopped) return;
      failures = 0;
      options.onValue(value);
    } catch (error) {
      if (stopped) return;
      failures++;
      options.onError?.(error);
    } finally {
      if (loading === controller) loading = undefined;
    }
    if (failures > 0) schedule(backoffDelay(failures, retry));
    else if (again) schedule(0);
    else if (options.refreshMs > 0) schedule(options.refreshMs);
  }

  void run();
  return {
    reload() {
      if (loading) again = true;
      else schedule(RELOAD_COALESCE_MS);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      loading?.abort();
    },
  };
}
