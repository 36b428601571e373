/**
 * Where the browser finds each service: the web server answers `GET /config.json` with these,
 * and the page builds its clients from them. Pure data, shared by the server and the page.
 *
 * @module
 */

/** The three services the page talks to. */
export type ServiceName = "users" | "tasks" | "orchestrator";

/** Every service, in the order the status page shows them. */
export const SERVICE_NAMES: readonly ServiceName[] = ["users", "tasks", "orchestrator"];

/** What a person reads for each service. */
export const SERVICE_LABELS: Readonly<Record<ServiceName, string>> = {
  users: "User Service",
  tasks: "Task Service",
  orchestrator: "Orchestrator",
};

/** One service as the browser reaches it. */
export interface ServiceEndpoint {
  /**
   * The RPC base URL (Connect / gRPC-web): absolute, a path on the page's own origin, or `:port`
   * (that port on the page's own host, which the page knows and the server is not told).
   */
  rpc: string;
  /** The base of its `/health` and `/metrics`, in the same forms as {@link rpc}. */
  http: string;
}

/** How the page keeps its views current (`WEB_REFRESH_SECONDS` on the web server). */
export interface LiveSettings {
  /**
   * The safety-net reload of each live view, in seconds after its last load, besides the reloads
   * the notification stream triggers; 0: none.
   */
  refreshSeconds: number;
}

/** The body of `GET /config.json`. */
export interface Endpoints {
  services: Record<ServiceName, ServiceEndpoint>;
  /** Absent from older servers and static hosts: the page's defaults apply. */
  live?: LiveSettings;
}

/**
 * Resolves an endpoint URL against the page's origin and drops a trailing slash, so that `""`
 * (same origin), `/services/users` and `:50051` (a port on the page's host) work as base URLs.
 *
 * @example
 * ```ts
 * resolveBase("", "http://localhost:8080/#/status"); // "http://localhost:8080"
 * resolveBase("/services/users/", "http://localhost:8080/"); // "http://localhost:8080/services/users"
 * resolveBase(":50051", "http://[::1]:8080/"); // "http://[::1]:50051"
 * ```
 */
export function resolveBase(url: string, pageUrl: string): string {
  const port = /^:(\d{1,5})$/.exec(url);
  if (port) {
    const page = new URL(pageUrl);
    return `${page.protocol}//${page.hostname}:${port[1]}`;
  }
  return new URL(url === "" ? "/" : url, pageUrl).href.replace(/\/+$/, "");
}
