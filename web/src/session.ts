/**
 * Who is signed in on this tab: the access token and the user, kept in `sessionStorage` so a
 * reload keeps the session and closing the tab ends it. The other open tabs share it through
 * `session_sync.ts` (never through `localStorage`).
 *
 * @module
 */
import { createStore, type Store } from "./store.ts";

/** The signed-in user's role, as the page uses it. */
export type AccountRole = "client" | "developer" | "admin";

/** A signed-in session. */
export interface Session {
  token: string;
  /** ISO time the token stops working. */
  expiresAt: string;
  user: { id: string; email: string; role: AccountRole; displayName: string };
}

const KEY = "freelance-platform.session";

/** The minimal storage the session needs (`sessionStorage` in the page). */
export interface SessionStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * A store of the session that reads and writes `storage`; a stored session whose token has
 * expired is dropped.
 *
 * @example
 * ```ts
 * const session = createSessionStore(sessionStorage);
 * session.set({ token, expiresAt, user });
 * ```
 */
export function createSessionStore(
  storage: SessionStorageLike,
  now: () => number = Date.now,
): Store<Session | undefined> {
  let initial: Session | undefined;
  try {
    const parsed = JSON.parse(storage.getItem(KEY) ?? "null") as Session | null;
    if (parsed?.token && Date.parse(parsed.expiresAt) > now()) initial = parsed;
  } catch {
    // A damaged entry is as good as none.
  }
  const store = createStore<Session | undefined>(initial);
  store.subscribe((session) => {
    if (session) storage.setItem(KEY, JSON.stringify(session));
    else storage.removeItem(KEY);
  });
  return store;
}
