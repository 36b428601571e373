/**
 * The signed-in user's notifications (`platform.notifications.v1.NotificationService/Watch` on
 * the Orchestrator), one stream per page shared by every live view.
 *
 * The stream opens when the first view subscribes and closes a little after the last one leaves.
 * It keeps the cursor of the last frame it saw; when the connection drops, the server ends the
 * stream (its one-hour limit, or a replica draining) or nothing arrives for three keep-alive
 * periods, it reconnects with that cursor after a jittered backoff, so nothing is missed. Views
 * are told to reload what they show when the stream starts without a cursor (what happened
 * before it started is not on it), when the server says `gap` (notifications older than its
 * retention are gone) and when a cursor is refused (a fresh start follows). When the server ends
 * the stream because its token expired (`unauthenticated`), the page is told (it ends the session:
 * that token is good for nothing) and the next attempt opens with whatever token the page holds
 * then (a fresh sign-in's), from the same cursor: nothing is missed.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Notification, WatchResponse } from "@platform/proto/notifications/v1";
import { createStore, type Store } from "../store.ts";
import { backoffDelay, type BackoffSettings } from "./backoff.ts";

/** How the stream opens a Watch call (`notificationsClient(...).watch`). */
export type WatchCall = (
  request: { cursor: string },
  options: { signal: AbortSignal; timeoutMs: number },
) => AsyncIterable<WatchResponse>;

/**
 * Where the stream stands: `idle` (nobody subscribed), `connecting` (first attempt), `live`
 * (frames arriving), `reconnecting` (dropped; trying again).
 */
export type StreamState = "idle" | "connecting" | "live" | "reconnecting";

/** What a view hears from the stream. */
export interface StreamListener {
  /** A notification for the signed-in user. */
  onNotification?(notification: Notification): void;
  /** Notifications may have been missed: reload what is shown. */
  onReload?(): void;
}

/** Tuning of {@link createNotificationStream}. */
export interface NotificationStreamOptions {
  /**
   * Each failed attempt's error (not the page's own cancellations), for the reachability banner.
   */
  onError?(error: unknown): void;
  /**
   * The stream was refused or ended as `unauthenticated` (its token expired): the page ends the
   * session so that a sign-in brings a fresh token, which the next attempt uses. Not reported to
   * {@link onError}: the service is reachable.
   */
  onUnauthenticated?(error: ConnectError): void;
  /** Waits between attempts (default: 1 s doubling to 8 s, 30 % jitter). */
  backoff?: BackoffSettings;
  /**
   * A connection silent this long is taken as dead and reopened (default 50 s: the server sends a
   * keep-alive every 15 s).
   */
  silenceMs?: number;
  /** How long the stream stays open after the last view left (default 5 s: a page change). */
  lingerMs?: number;
}

/** The page's notification stream. */
export interface NotificationStream {
  /** Where the stream stands, for the page's "live" indicator. */
  state: Store<StreamState>;
  /** Starts listening (opening the stream if needed); returns the function that stops. */
  subscribe(listener: StreamListener): () => void;
  /** The cursor of the last frame received ("" when none: the next start is a fresh one). */
  cursor(): string;
}

/** The default waits between attempts. */
export const STREAM_BACKOFF: BackoffSettings = { firstMs: 1000, maxMs: 8000, jitter: 0.3 };

/**
 * Creates the page's notification stream; nothing is opened until a view subscribes.
 *
 * @example
 * ```ts
 * const notifications = createNotificationStream(
 *   (req, options) => api.notifications.watch(req, options),
 *   { onError: (error) => connectivity.report("orchestrator", error) },
 * );
 * const stop = notifications.subscribe({
 *   onNotification: (n) => console.log(n.kind, n.taskId),
 *   onReload: () => reloadEverything(),
 * });
 * ```
 */
export function createNotificationStream(
  watch: WatchCall,
  options: NotificationStreamOptions = {},
): NotificationStream {
  const backoff = options.backoff ?? STREAM_BACKOFF;
  const silenceMs = options.silenceMs ?? 50_000;
  const lingerMs = options.lingerMs ?? 5000;
  const state = createStore<StreamState>("idle");
  const listeners = new Set<StreamListener>();
  let cursor = "";
  let running: AbortController | undefined;
  let linger: ReturnType<typeof setTimeout> | undefined;

  const emit = (tell: (listener: StreamListener) => void) => {
    for (const listener of [...listeners]) {
      try {
        tell(listener);
      } catch (error) {
        console.error("a notification listener failed", error);
      }
    }
  };

  async function run(stop: AbortSignal) {
    let failures = 0;
    state.set("connecting");
    while (!stop.aborted) {
      const attempt = new AbortController();
      const abortAttempt = () => attempt.abort();
      stop.addEventListener("abort", abortAttempt, { once: true });
      let silence: ReturnType<typeof setTimeout> | undefined;
      const armSilence = () => {
        clearTimeout(silence);
        silence = setTimeout(() => attempt.abort(), silenceMs);
      };
      const resuming = cursor !== "";
      let opened = false;
      try {
        armSilence();
        const frames = watch({ cursor }, { signal: attempt.signal, timeoutMs: 0 });
        for await (const response of frames) {
          armSilence();
          if (response.cursor) cursor = response.cursor;
          if (!opened) {
            opened = true;
            failures = 0;
            state.set("live");
            if (!resuming) emit((l) => l.onReload?.());
          }
          const frame = response.frame;
          if (frame.case === "notification") emit((l) => l.onNotification?.(frame.value));
          else if (frame.case === "gap") emit((l) => l.onReload?.());
        }
        // The server ended the stream (its time limit, or the replica is draining): come back
        // with the cursor after a short, jittered pause.
      } catch (error) {
        if (stop.aborted) break;
        failures++;
        if (!attempt.signal.aborted) {
          // A cursor the server refuses (from before a secret rotation, or another user's): start
          // afresh, which tells the views to reload.
          if (resuming && error instanceof ConnectError && error.code === Code.InvalidArgument) {
            cursor = "";
          }
          if (error instanceof ConnectError && error.code === Code.Unauthenticated) {
            options.onUnauthenticated?.(error);
          } else {
            options.onError?.(error);
          }
        }
      } finally {
        clearTimeout(silence);
        stop.removeEventListener("abort", abortAttempt);
      }
      if (stop.aborted) break;
      state.set("reconnecting");
      await sleep(backoffDelay(failures, backoff), stop);
    }
  }

  const start = () => {
    const controller = new AbortController();
    running = controller;
    void run(controller.signal);
  };
  const stop = () => {
    running?.abort();
    running = undefined;
    cursor = ""; // the next subscriber may be someone else: their views load afresh anyway
    state.set("idle");
  };

  return {
    state,
    cursor: () => cursor,
    subscribe(listener) {
      listeners.add(listener);
      clearTimeout(linger);
      linger = undefined;
      if (!running) start();
      return () => {
        if (!listeners.delete(listener) || listeners.size > 0) return;
        clearTimeout(linger);
        linger = setTimeout(stop, lingerMs);
      };
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
