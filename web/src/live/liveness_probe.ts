/**
 * Notices a service going away while the page makes no calls to it. Live views no longer poll
 * (they reload when the notification stream says something changed), so a signed-in page asks
 * each service's `GET /livez` (no dependency checks, no database) every few seconds and reports
 * only failures: the banner appears within one interval of an outage. Clearing is left to the
 * calls that succeed and to the banner's own `/health` probe, which knows a service that answers
 * but cannot serve (503) from a healthy one.
 *
 * @module
 */
import type { ServiceName } from "../endpoints.ts";

/** How often a signed-in page asks each service whether it is there. */
export const LIVENESS_PROBE_MS = 10_000;

/** A running probe. */
export interface LivenessProbe {
  stop(): void;
}

/**
 * Starts probing `services` (the first round after one interval).
 *
 * @example
 * ```ts
 * const probe = startLivenessProbe(
 *   ["users", "tasks", "orchestrator"],
 *   (service, signal) => api.livez(service, signal),
 *   (service, error) => connectivity.report(service, error),
 * );
 * // later: probe.stop();
 * ```
 */
export function startLivenessProbe(
  services: readonly ServiceName[],
  livez: (service: ServiceName, signal: AbortSignal) => Promise<void>,
  onFailure: (service: ServiceName, error: unknown) => void,
  intervalMs: number = LIVENESS_PROBE_MS,
): LivenessProbe {
  const controller = new AbortController();
  const round = () => {
    for (const service of services) {
      livez(service, controller.signal).catch((error) => {
        if (!controller.signal.aborted) onFailure(service, error);
      });
    }
  };
  const timer = setInterval(round, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      controller.abort();
    },
  };
}
