/**
 * The page's entry: asks the web server where the services are (`/config.json`), builds the
 * clients and the notification stream, and renders the app. Served as one bundle (`deno task web:build`, or the web server at
 * start).
 *
 * @module
 */
import { render } from "preact";
import { createApi } from "./api.ts";
import { App } from "./app.tsx";
import { createConnectivity } from "./connectivity.ts";
import type { Endpoints } from "./endpoints.ts";
import { DEFAULT_REFRESH_MS } from "./live/feeds.ts";
import { createNotificationStream } from "./live/notification_stream.ts";
import { createSessionStore } from "./session.ts";
import { SESSION_CHANNEL, syncSessionAcrossTabs } from "./session_sync.ts";

/** Without `/config.json` (a static host), each service's port on the page's host. */
function defaultEndpoints(): Endpoints {
  const base = (port: number) => `${location.protocol}//${location.hostname}:${port}`;
  const service = (port: number) => ({ rpc: base(port), http: base(port) });
  return {
    services: { users: service(50051), tasks: service(50052), orchestrator: service(50053) },
  };
}

async function loadEndpoints(): Promise<Endpoints> {
  try {
    const res = await fetch("/config.json", { cache: "no-store" });
    if (res.ok) return await res.json() as Endpoints;
  } catch {
    // fall through to the defaults
  }
  return defaultEndpoints();
}

const endpoints = await loadEndpoints();
const session = createSessionStore(sessionStorage);
// Every tab of the app shares one session: sign in or out in one, and the others follow.
if (typeof BroadcastChannel === "function") {
  syncSessionAcrossTabs(session, new BroadcastChannel(SESSION_CHANNEL));
}
const connectivity = createConnectivity();
// A call refused because the token expired ends the session: the page asks to sign in again.
const endSession = () => {
  session.set(undefined);
  location.hash = "#/signin";
};
const api = createApi(
  endpoints,
  location.href,
  () => session.get()?.token,
  connectivity,
  endSession,
);
// One Watch stream for the page; a stream that cannot connect shows in the banner like any call.
// The server ends it when its token expires: the session ends too, and after the next sign-in the
// stream reopens with the fresh token from its last cursor.
const notifications = createNotificationStream(
  (request, options) => api.notifications.watch(request, options),
  {
    onError: (error) => connectivity.report("orchestrator", error),
    onUnauthenticated: () => {
      if (session.get()) endSession();
    },
  },
);
const refreshSeconds = endpoints.live?.refreshSeconds;
const live = {
  api,
  notifications,
  refreshMs: refreshSeconds === undefined ? DEFAULT_REFRESH_MS : refreshSeconds * 1000,
};
const root = document.getElementById("app")!;
root.textContent = "";
render(<App services={{ api, session, connectivity, live }} />, root);
