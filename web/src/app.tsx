/**
 * The app's frame: header with navigation and who is signed in, the connectivity banner, and the
 * page for the current address (`#/...`).
 *
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { AppContext, type AppServices } from "./context.ts";
import { SERVICE_NAMES } from "./endpoints.ts";
import { startLivenessProbe } from "./live/liveness_probe.ts";
import { useStore } from "./use_store.ts";
import { SignIn, SignUp } from "./views/auth.tsx";
import { ConnectivityBanner } from "./views/banner.tsx";
import { ClientHome, TaskDetail } from "./views/client.tsx";
import { DeveloperHome } from "./views/developer.tsx";
import { LiveIndicator } from "./views/live_indicator.tsx";
import { ProfilePage } from "./views/profile.tsx";
import { StatusPage } from "./views/status.tsx";

/** The address after `#`, such as `/tasks/<id>`. */
function useRoute(): string {
  const read = () => location.hash.replace(/^#/, "") || "/";
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

/**
 * The whole app.
 *
 * @example
 * ```tsx
 * render(<App services={services} />, document.getElementById("app")!);
 * ```
 */
export function App(props: { services: AppServices }): JSX.Element {
  const { session, api, connectivity } = props.services;
  const current = useStore(session);
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // Move focus to the new page's heading, so keyboard and screen-reader users start there.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const heading = main.current?.querySelector<HTMLElement>("h1");
    heading?.focus();
  }, [route, current?.user.id]);

  useEffect(() => {
    const title = route.startsWith("/status")
      ? "Status"
      : current && route.startsWith("/people/")
      ? "Profile"
      : current
      ? current.user.role === "developer" ? "Developer" : "Client"
      : "Sign in";
    document.title = `${title} · Freelance Platform`;
  }, [route, current?.user.role]);

  // Live views make no calls until something happens: a signed-in page asks each service's
  // /livez now and then, so an outage shows in the banner even while nothing changes.
  const signedIn = current !== undefined;
  useEffect(() => {
    if (!signedIn) return;
    const probe = startLivenessProbe(
      SERVICE_NAMES,
      (service, signal) => api.livez(service, signal),
      (service, error) => connectivity.report(service, error),
    );
    return () => probe.stop();
  }, [signedIn, api, connectivity]);

  const signOut = async () => {
    if (current?.user.role === "developer") {
      await api.users.goOffline({}).catch(() => {});
      sessionStorage.removeItem("freelance-platform.online");
    }
    session.set(undefined);
    location.hash = "#/signin";
  };

  let page: JSX.Element;
  const task = /^\/tasks\/([\w-]+)$/.exec(route);
  const person = /^\/people\/([\w-]+)$/.exec(route);
  if (route.startsWith("/status")) page = <StatusPage />;
  else if (!current) page = route.startsWith("/signup") ? <SignUp /> : <SignIn />;
  else if (person) page = <ProfilePage userId={person[1]} />;
  else if (current.user.role === "developer") page = <DeveloperHome />;
  else if (current.user.role === "admin") page = <StatusPage />;
  else if (task) page = <TaskDetail taskId={task[1]} />;
  else page = <ClientHome />;

  const roleWord = current?.user.role === "developer"
    ? "developer"
    : current?.user.role === "admin"
    ? "operator"
    : "client";
  return (
    <AppContext.Provider value={props.services}>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          main.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">Freelance Platform</a>
        <nav aria-label="Main">
          <ul>
            {current && (
              <li>
                <a href="#/" aria-current={!route.startsWith("/status") ? "page" : undefined}>
                  {current.user.role === "developer" ? "My work" : "My tasks"}
                </a>
              </li>
            )}
            <li>
              <a href="#/status" aria-current={route.startsWith("/status") ? "page" : undefined}>
                Status
              </a>
            </li>
            {!current && (
              <>
                <li>
                  <a href="#/signin">Sign in</a>
                </li>
                <li>
                  <a href="#/signup">Sign up</a>
                </li>
              </>
            )}
          </ul>
        </nav>
        {current && (
          <div class="who">
            <LiveIndicator />
            <span>
              {current.user.displayName} <span class="muted">({roleWord})</span>
            </span>
            <button type="button" onClick={signOut}>Sign out</button>
          </div>
        )}
      </header>
      <ConnectivityBanner />
      <main id="main" ref={main} tabIndex={-1}>
        {page}
      </main>
    </AppContext.Provider>
  );
}
