/**
 * One session for every tab of the app in a browser: signing in in one tab signs in the others,
 * signing out (or a token found expired) signs out every tab.
 *
 * The choice: the token stays in each tab's `sessionStorage` (as before) and is handed between
 * open tabs over a `BroadcastChannel`, never written to `localStorage`. A new tab asks the open
 * ones for the session; a change in one tab is announced to the others. So the token lives only
 * while some tab of the app is open (closing the last one ends the session, as before), and is
 * never left on disk for the next person at a shared computer. Against XSS this is no weaker and
 * no stronger than `sessionStorage` alone: a script running in the page could read the token from
 * either, which is why the page is served with a strict Content-Security-Policy
 * (web/server/web_server.ts) and Preact escapes what it renders. An HttpOnly cookie would keep the
 * token from scripts, but the services take bearer tokens from other origins (CORS), not cookies.
 *
 * @module
 */
import type { Session } from "./session.ts";
import type { Store } from "./store.ts";

/** The channel's name (one per origin). */
export const SESSION_CHANNEL = "freelance-platform.session";

/** The part of `BroadcastChannel` used here. */
export interface SessionChannel {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
}

type SyncMessage =
  | { kind: "ask" }
  | { kind: "session"; session: Session }
  | { kind: "signed-out" };

/**
 * Keeps `store` in step with the other tabs over `channel`; returns the function that stops it.
 * A session received is taken only when well formed and not expired.
 *
 * @example
 * ```ts
 * syncSessionAcrossTabs(session, new BroadcastChannel(SESSION_CHANNEL));
 * ```
 */
export function syncSessionAcrossTabs(
  store: Store<Session | undefined>,
  channel: SessionChannel,
  now: () => number = Date.now,
): () => void {
  let applying = false;
  const apply = (session: Session | undefined) => {
    applying = true;
    try {
      store.set(session);
    } finally {
      applying = false;
    }
  };
  const onMessage = (event: { data: unknown }) => {
    const message = event.data as SyncMessage | null;
    if (message?.kind === "ask") {
      const session = store.get();
      if (session) channel.postMessage({ kind: "session", session } satisfies SyncMessage);
    } else if (message?.kind === "session") {
      const session = usable(message.session, now);
      if (session && session.token !== store.get()?.token) apply(session);
    } else if (message?.kind === "signed-out") {
      if (store.get()) apply(undefined);
    }
  };
  channel.addEventListener("message", onMessage);
  const unsubscribe = store.subscribe((session) => {
    if (applying) return;
    channel.postMessage(
      (session ? { kind: "session", session } : { kind: "signed-out" }) satisfies SyncMessage,
    );
  });
  if (!store.get()) channel.postMessage({ kind: "ask" } satisfies SyncMessage);
  return () => {
    unsubscribe();
    channel.removeEventListener("message", onMessage);
  };
}

function usable(value: unknown, now: () => number): Session | undefined {
  const session = value as Session | undefined;
  if (
    typeof session?.token !== "string" || session.token === "" ||
    typeof session.expiresAt !== "string" || !(Date.parse(session.expiresAt) > now()) ||
    typeof session.user?.id !== "string" || typeof session.user.role !== "string"
  ) {
    return undefined;
  }
  return session;
}
