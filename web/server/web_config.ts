/**
 * The web server's settings, from the environment, and the endpoints it tells the page about.
 *
 * @module
 */
import { EnvReader, type EnvSource } from "@platform/lib/config";
import {
  type Endpoints,
  SERVICE_NAMES,
  type ServiceEndpoint,
  type ServiceName,
} from "../src/endpoints.ts";

/** Default ports, the same `deno task start` gives the services. */
const DEFAULT_PORTS: Record<ServiceName, number> = {
  users: 50051,
  tasks: 50052,
  orchestrator: 50053,
};

/** How the web server runs and where the page finds the services. */
export interface WebConfig {
  host: string;
  /** `WEB_PORT`, 8080 by default. */
  port: number;
  logLevel: "debug" | "info" | "warn" | "error";
  /**
   * `WEB_SAME_ORIGIN=true`: behind the edge proxy, RPCs go to the page's own origin and each
   * service's `/health` and `/metrics` to `/services/<name>/...`.
   */
  sameOrigin: boolean;
  /** Per service: a fixed URL (`WEB_USERS_URL`...), or the port on the page's host. */
  services: Record<ServiceName, { url?: string; port: number }>;
  /**
   * `WEB_REFRESH_SECONDS` (30): the page's safety-net reload of each live view, besides the
   * reloads the notification stream triggers; 0 turns it off.
   */
  refreshSeconds: number;
  /** `WEB_SOURCE_MAPS` (false): bundle and serve `/app.js.map`; for development only. */
  sourceMaps: boolean;
}

/**
 * Reads `WEB_PORT`, `HOST`, `LOG_LEVEL`, `WEB_SAME_ORIGIN`, `WEB_REFRESH_SECONDS`, `WEB_SOURCE_MAPS`,
 * `WEB_USERS_URL`, `WEB_TASKS_URL`, `WEB_ORCHESTRATOR_URL` and the services' ports (`USERS_PORT`, `TASKS_PORT`,
 * `ORCHESTRATOR_PORT`, as `deno task start` does).
 *
 * @example
 * ```ts
 * const config = loadWebConfig({ WEB_PORT: "8080" });
 * config.services.users.port; // 50051
 * ```
 */
export function loadWebConfig(source: EnvSource = Deno.env.toObject()): WebConfig {
  const env = new EnvReader(source);
  const services = {} as WebConfig["services"];
  for (const name of SERVICE_NAMES) {
    const upper = name.toUpperCase();
    const url = env.raw(`WEB_${upper}_URL`);
    services[name] = {
      url: url === undefined ? undefined : env.url(`WEB_${upper}_URL`, url, ["http", "https"]),
      port: env.int(`${upper}_PORT`, DEFAULT_PORTS[name], { min: 1, max: 65535 }),
    };
  }
  return {
    host: env.string("HOST", "0.0.0.0"),
    port: env.int("WEB_PORT", 8080, { min: 0, max: 65535 }),
    logLevel: env.oneOf("LOG_LEVEL", "info", ["debug", "info", "warn", "error"] as const),
    sameOrigin: env.bool("WEB_SAME_ORIGIN", false),
    services,
    refreshSeconds: env.int("WEB_REFRESH_SECONDS", 30, { min: 0, max: 86_400 }),
    sourceMaps: env.bool("WEB_SOURCE_MAPS", false),
  };
}

/**
 * The endpoints the page is told about. Nothing here comes from the request (its Host header is
 * whatever the client wrote): by default each service is `:port`, its port on the host the person
 * typed, which the page resolves itself (so `http://localhost:8080` calls `http://localhost:50051`,
 * and CORS_ORIGINS's development default allows it); `WEB_*_URL` and `WEB_SAME_ORIGIN` fix them.
 *
 * @example
 * ```ts
 * endpointsFor(loadWebConfig({})).services.users.rpc; // ":50051"
 * ```
 */
export function endpointsFor(config: WebConfig): Endpoints {
  const services = {} as Record<ServiceName, ServiceEndpoint>;
  for (const name of SERVICE_NAMES) {
    const { url, port } = config.services[name];
    if (url !== undefined) {
      const base = url.replace(/\/+$/, "");
      services[name] = { rpc: base, http: base };
    } else if (config.sameOrigin) {
      services[name] = { rpc: "", http: `/services/${name}` };
    } else {
      services[name] = { rpc: `:${port}`, http: `:${port}` };
    }
  }
  return { services, live: { refreshSeconds: config.refreshSeconds } };
}
