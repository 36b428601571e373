/**
 * The banner that says which services the page cannot use, and that it keeps trying: while a
 * service is down the banner asks its `/health` every few seconds (so it clears even on a page
 * that makes no calls of its own), and says so when the service is back.
 *
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { useApp } from "../context.ts";
import { SERVICE_LABELS, SERVICE_NAMES, type ServiceName } from "../endpoints.ts";
import { startPoll } from "../live/poll.ts";
import { useStore } from "../use_store.ts";

/** How often the banner asks a service that is down. */
export const PROBE_INTERVAL_MS = 3000;

/**
 * The connectivity banner.
 *
 * @example
 * ```tsx
 * <ConnectivityBanner />
 * ```
 */
export function ConnectivityBanner(): JSX.Element {
  const { api, connectivity } = useApp();
  const reachability = useStore(connectivity.store);
  const down = SERVICE_NAMES.filter((name) => reachability[name]);
  const previous = useRef<ServiceName[]>([]);
  const [recovered, setRecovered] = useState<ServiceName[]>([]);
  const key = down.join();

  useEffect(() => {
    const back = previous.current.filter((name) => !down.includes(name));
    previous.current = down;
    if (back.length > 0) setRecovered(back);
    else if (down.length > 0) setRecovered([]);
    const probes = down.map((name) =>
      startPoll((signal) => api.health(name, signal), {
        intervalMs: PROBE_INTERVAL_MS,
        maxBackoffMs: PROBE_INTERVAL_MS,
        onValue: () => {},
      })
    );
    const timer = back.length > 0 ? setTimeout(() => setRecovered([]), 6000) : undefined;
    return () => {
      probes.forEach((probe) => probe.stop());
      clearTimeout(timer);
    };
  }, [key, api]);

  return (
    <div class="banners">
      <div role="alert" id="outage-banner">
        {down.map((name) => (
          <div class="banner banner-down" key={name} data-service={name}>
            <p>
              The {SERVICE_LABELS[name]} is unavailable right now (since{" "}
              {new Date(reachability[name]!.since).toLocaleTimeString()}). This page keeps trying
              and updates by itself when it is back; what you see may be out of date meanwhile.
            </p>
            <p class="banner-hint">
              If this lasts while the service is up, it may not accept calls from this page's
              address ({location.origin}): operators allow it with CORS_ORIGINS.
            </p>
          </div>
        ))}
      </div>
      <div role="status" id="recovery-banner">
        {recovered.length > 0 && (
          <p class="banner banner-back">
            The {recovered.map((name) => SERVICE_LABELS[name]).join(" and ")}{" "}
            {recovered.length > 1 ? "are" : "is"} back.
          </p>
        )}
      </div>
    </div>
  );
}
