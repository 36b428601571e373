/**
 * Keeps a developer online while the tab is open: GoOnline, then a Heartbeat well before the
 * presence TTL runs out (a third of it, at most every 30 s). A failed heartbeat is retried soon;
 * if the service says the developer went offline meanwhile (the tab slept, the service was down
 * longer than the TTL), it goes online again. Closing the tab stops the heartbeats, and the
 * service takes the developer offline when the TTL passes.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { UsersClient } from "@platform/client";
import { toDate } from "./format.ts";

/** What the switch shows. */
export interface PresenceState {
  online: boolean;
  /** When the service takes the developer offline unless a heartbeat comes first. */
  expiresAt?: Date;
  /** The last failure, cleared by the next success. */
  error?: unknown;
}

/** A running presence. */
export interface Presence {
  /** Stops the heartbeats and, unless told otherwise, goes offline. */
  stop(options?: { goOffline?: boolean }): Promise<void>;
}

/** Heartbeat pacing, in milliseconds. */
export const HEARTBEAT = { maxIntervalMs: 30_000, minIntervalMs: 2_000, retryMs: 3_000 };

/**
 * Goes online and keeps sending heartbeats until stopped.
 *
 * @example
 * ```ts
 * const presence = keepOnline(api.users, (state) => render(state));
 * // the switch turned off:
 * await presence.stop();
 * ```
 */
export function keepOnline(
  users: UsersClient,
  onState: (state: PresenceState) => void,
  now: () => number = Date.now,
): Presence {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let online = false;
  let expiresAt: Date | undefined;

  const next = (expires: Timestamp | undefined) => {
    expiresAt = toDate(expires);
    const left = expiresAt ? expiresAt.getTime() - now() : HEARTBEAT.maxIntervalMs;
    return Math.max(HEARTBEAT.minIntervalMs, Math.min(HEARTBEAT.maxIntervalMs, left / 3));
  };
  const schedule = (delay: number, step: () => Promise<void>) => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(step, delay);
  };

  async function goOnline() {
    try {
      const res = await users.goOnline({});
      if (stopped) return;
      online = true;
      const delay = next(res.expiresAt);
      onState({ online, expiresAt });
      schedule(delay, beat);
    } catch (error) {
      if (stopped) return;
      onState({ online, expiresAt, error });
      schedule(HEARTBEAT.retryMs, goOnline);
    }
  }

  async function beat() {
    try {
      const res = await users.heartbeat({});
      if (stopped) return;
      const delay = next(res.expiresAt);
      onState({ online: true, expiresAt });
      schedule(delay, beat);
    } catch (error) {
      if (stopped) return;
      if (error instanceof ConnectError && error.code === Code.FailedPrecondition) {
        online = false; // the TTL passed while we could not beat: start over
        await goOnline();
        return;
      }
      onState({ online, expiresAt, error });
      schedule(HEARTBEAT.retryMs, beat);
    }
  }

  goOnline();
  return {
    async stop(options = {}) {
      stopped = true;
      clearTimeout(timer);
      if (options.goOffline ?? true) await users.goOffline({});
    },
  };
}
