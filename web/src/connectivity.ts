/**
 * Which services the page can reach now, learnt from every call it makes: a call that gets any
 * answer marks its service reachable, one that gets none marks it unreachable. The banner at the
 * top of the page shows the unreachable ones and clears itself when they answer again.
 *
 * @module
 */
import type { Interceptor } from "@connectrpc/connect";
import type { ServiceName } from "./endpoints.ts";
import { isUnreachable } from "./errors.ts";
import { createStore, type Store } from "./store.ts";

/** A service the page cannot reach, and since when. */
export interface Outage {
  since: number;
}

/** What {@link Connectivity.report} takes for a service that answered `/health` with 503. */
export const SERVICE_UNHEALTHY: unique symbol = Symbol("service unhealthy");

/** The page's reachability store and the reporters that feed it. */
export interface Connectivity {
  store: Store<Reachability>;
  /**
   * Records the outcome of a call: `undefined` (it answered), an error (unreachable if the error
   * says so), or {@link SERVICE_UNHEALTHY}.
   */
  report(service: ServiceName, outcome: unknown): void;
  /** An interceptor that reports every RPC's outcome. */
  interceptor(service: ServiceName): Interceptor;
}

/** Unreachable services by name (absent: reachable or not tried yet). */
export type Reachability = Partial<Record<ServiceName, Outage>>;

/**
 * Creates the page's reachability tracking.
 *
 * @example
 * ```ts
 * const connectivity = createConnectivity();
 * connectivity.report("tasks", new ConnectError("Failed to fetch"));
 * connectivity.store.get().tasks; // { since: ... }
 * ```
 */
export function createConnectivity(now: () => number = Date.now): Connectivity {
  const store = createStore<Reachability>({});
  const report = (service: ServiceName, outcome: unknown) => {
    const down = outcome === SERVICE_UNHEALTHY || (outcome !== undefined && isUnreachable(outcome));
    const current = store.get();
    if (down && !current[service]) store.set({ ...current, [service]: { since: now() } });
    if (!down && current[service]) {
      const next = { ...current };
      delete next[service];
      store.set(next);
    }
  };
  return {
    store,
    report,
    interceptor: (service) => (next) => async (req) => {
      try {
        const res = await next(req);
        report(service, undefined);
        return res;
      } catch (error) {
        report(service, error);
        throw error;
      }
    },
  };
}
