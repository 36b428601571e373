/**
 * What every view needs (the clients, the session, reachability, the live sources), handed down by
 * Preact context.
 *
 * @module
 */
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { Role, type User } from "@platform/proto/users/v1";
import type { LoginResponse } from "@platform/proto/users/v1";
import type { Api } from "./api.ts";
import type { Connectivity } from "./connectivity.ts";
import { toDate } from "./format.ts";
import type { Live } from "./live/feeds.ts";
import type { AccountRole, Session } from "./session.ts";
import type { Store } from "./store.ts";

/** The page's shared parts. */
export interface AppServices {
  api: Api;
  session: Store<Session | undefined>;
  connectivity: Connectivity;
  /** What live views stand on: the clients, the notification stream, the safety-net reload. */
  live: Live;
}

/** The context the app provides. */
export const AppContext = createContext<AppServices | undefined>(undefined);

/**
 * The app's shared parts, inside the app.
 *
 * @example
 * ```tsx
 * const { api, session } = useApp();
 * ```
 */
export function useApp(): AppServices {
  const services = useContext(AppContext);
  if (!services) throw new Error("useApp outside <AppContext.Provider>");
  return services;
}

/**
 * The role word for a user.
 *
 * @example
 * ```ts
 * roleOf(user); // "developer"
 * ```
 */
export function roleOf(user: User | undefined): AccountRole {
  switch (user?.role) {
    case Role.DEVELOPER:
      return "developer";
    case Role.ADMIN:
      return "admin";
    default:
      return "client";
  }
}

/**
 * A session from a login answer.
 *
 * @example
 * ```ts
 * session.set(sessionFromLogin(await api.users.login({ email, password })));
 * ```
 */
export function sessionFromLogin(res: LoginResponse): Session {
  const user = res.user;
  return {
    token: res.accessToken,
    expiresAt: (toDate(res.expiresAt) ?? new Date(Date.now() + 3600_000)).toISOString(),
    user: {
      id: user?.id ?? "",
      email: user?.email ?? "",
      role: roleOf(user),
      displayName: user?.displayName || user?.email || "",
    },
  };
}
