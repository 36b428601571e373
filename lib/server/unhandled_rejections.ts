/**
 * The last line of defence against a promise rejection nobody handled: Deno ends the process on
 * one, so a bug in a dependency's client (a socket closed at the wrong moment) would take the
 * whole service down with it. Each service instead counts it
 * (`process_unhandled_rejections_total`), logs it with its stack, and goes on. This hides
 * nothing: the count is alerted on (`UnhandledRejections`), and the test harness fails a test
 * whose service reported one. The causes are fixed where they arise; this only keeps a missed
 * one from becoming an outage.
 *
 * @module
 */
import type { Metrics } from "../metrics/registry.ts";

/** The log line's `msg` (the harness looks for it). */
export const UNHANDLED_REJECTION_MSG = "unhandled rejection";

/** The metric's name. */
export const UNHANDLED_REJECTIONS_METRIC = "process_unhandled_rejections_total";

let installed = false;
let count = 0;
let onCount: () => void = () => {};

/**
 * Keeps the process alive on an unhandled rejection: it is counted and logged as one JSON line
 * (level `error`, with the reason's message and stack). Idempotent; install it before anything
 * else runs.
 *
 * @example
 * ```ts
 * guardUnhandledRejections("users");
 * ```
 */
export function guardUnhandledRejections(service: string): void {
  if (installed) return;
  installed = true;
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    count++;
    onCount();
    const reason = event.reason as {
      name?: unknown;
      message?: unknown;
      stack?: unknown;
      code?: unknown;
    };
    console.error(JSON.stringify({
      time: new Date().toISOString(),
      level: "error",
      service,
      msg: UNHANDLED_REJECTION_MSG,
      error: typeof reason?.message === "string" ? reason.message : String(event.reason),
      code: typeof reason?.code === "string" ? reason.code : undefined,
      stack: typeof reason?.stack === "string" ? reason.stack : undefined,
      total: count,
    }));
  });
}

/**
 * Exports `process_unhandled_rejections_total` (those counted before, too).
 *
 * @example
 * ```ts ignore
 * registerUnhandledRejectionMetric(metrics);
 * ```
 */
export function registerUnhandledRejectionMetric(metrics: Metrics): void {
  const counter = metrics.counter(
    UNHANDLED_REJECTIONS_METRIC,
    "Promise rejections nobody handled; each is logged with its stack and is a bug to fix.",
  );
  counter.inc(count);
  onCount = () => counter.inc();
}

/**
 * Unhandled rejections counted by this process so far.
 *
 * @example
 * ```ts
 * if (unhandledRejections() > 0) console.error("a bug to look at");
 * ```
 */
export function unhandledRejections(): number {
  return count;
}
