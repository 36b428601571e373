/**
 * A small word in the header that says whether live updates are flowing: "Live" while the
 * notification stream is open, "Reconnecting…" while it is not (what the page shows may then be
 * behind). Nothing while no view listens (signed out, the status page).
 *
 * @module
 */
import type { JSX } from "preact";
import { useApp } from "../context.ts";
import type { StreamState } from "../live/notification_stream.ts";
import { useStore } from "../use_store.ts";

const WORDS: Record<Exclude<StreamState, "idle">, { text: string; title: string }> = {
  connecting: {
    text: "Connecting…",
    title: "Opening the live updates stream.",
  },
  live: {
    text: "Live",
    title: "Changes to your proposals and tasks appear here as they happen.",
  },
  reconnecting: {
    text: "Reconnecting…",
    title: "Live updates were interrupted; the page reconnects by itself and catches up.",
  },
};

/**
 * The live-updates indicator.
 *
 * @example
 * ```tsx
 * <LiveIndicator />
 * ```
 */
export function LiveIndicator(): JSX.Element {
  const { live } = useApp();
  const state = useStore(live.notifications.state);
  const words = state === "idle" ? undefined : WORDS[state];
  return (
    <span
      id="live-status"
      class={`live live-${state}`}
      data-state={state}
      role="status"
      title={words?.title}
    >
      {words && (
        <>
          <span class="live-dot" aria-hidden="true" />
          {words.text}
          <span class="sr-only">{` ${words.title}`}</span>
        </>
      )}
    </span>
  );
}
