/**
 * The page's clients of the three services, built with `@platform/client` over gRPC-web (binary)
 * from the endpoints the web server gave, with the session's token and reachability tracking.
 *
 * @module
 */
import {
  fetchHealth,
  fetchMetrics,
  type HealthReading,
  type MetricSample,
  type NotificationsClient,
  notificationsClient,
  type OrchestratorClient,
  orchestratorClient,
  StatusEndpointError,
  type TasksClient,
  tasksClient,
  type TokenSource,
  type UsersClient,
  usersClient,
} from "@platform/client";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { type Connectivity, SERVICE_UNHEALTHY } from "./connectivity.ts";
import { type Endpoints, resolveBase, type ServiceName } from "./endpoints.ts";

/** How long a call may take before the page gives up on it. */
const CALL_TIMEOUT_MS = 10_000;

/** Everything the views call. */
export interface Api {
  users: UsersClient;
  tasks: TasksClient;
  orchestrator: OrchestratorClient;
  /** The signed-in user's `Watch` stream (on the Orchestrator); see `live/notification_stream.ts`. */
  notifications: NotificationsClient;
  /** `GET /health` of a service. */
  health(service: ServiceName, signal?: AbortSignal): Promise<HealthReading>;
  /** `GET /metrics` of a service. */
  metrics(service: ServiceName, signal?: AbortSignal): Promise<Map<string, MetricSample[]>>;
  /** `GET /livez` of a service: resolves when it answers 200; reports nothing by itself. */
  livez(service: ServiceName, signal?: AbortSignal): Promise<void>;
}

/**
 * Builds the clients.
 *
 * @example
 * ```ts
 * const api = createApi(endpoints, location.href, () => session.get()?.token, connectivity, () =>
 *   session.set(undefined));
 * await api.users.login({ email, password });
 * ```
 */
export function createApi(
  endpoints: Endpoints,
  pageUrl: string,
  token: TokenSource,
  connectivity: Connectivity,
  onSessionEnded: () => void = () => {},
): Api {
  // A call that carried a token and was refused as unauthenticated: the session has ended.
  const sessionWatch: Interceptor = (next) => async (req) => {
    try {
      return await next(req);
    } catch (error) {
      if (
        error instanceof ConnectError && error.code === Code.Unauthenticated &&
        req.header.has("authorization")
      ) onSessionEnded();
      throw error;
    }
  };
  const options = (service: ServiceName) => ({
    token,
    protocol: "grpcweb" as const,
    binary: true,
    timeoutMs: CALL_TIMEOUT_MS,
    interceptors: [connectivity.interceptor(service), sessionWatch],
  });
  const rpc = (service: ServiceName) => resolveBase(endpoints.services[service].rpc, pageUrl);
  const http = (service: ServiceName) => resolveBase(endpoints.services[service].http, pageUrl);
  const tracked = async <T>(
    service: ServiceName,
    signal: AbortSignal | undefined,
    call: () => Promise<T>,
  ): Promise<T> => {
    try {
      const result = await call();
      connectivity.report(service, undefined);
      return result;
    } catch (error) {
      // A call the page cancelled itself says nothing about the service.
      if (!signal?.aborted) connectivity.report(service, error);
      throw error;
    }
  };
  return {
    users: usersClient(rpc("users"), options("users")),
    tasks: tasksClient(rpc("tasks"), options("tasks")),
    orchestrator: orchestratorClient(rpc("orchestrator"), options("orchestrator")),
    // Served by the Orchestrator. A stream has no deadline: pass `timeoutMs: 0` per call.
    notifications: notificationsClient(rpc("orchestrator"), options("orchestrator")),
    health: async (service, signal) => {
      const reading = await tracked(
        service,
        signal,
        () => fetchHealth(http(service), { signal: timeout(signal) }),
      );
      // 503: the service answers but cannot serve (a critical dependency is down, or draining).
      if (reading.httpStatus >= 500) connectivity.report(service, SERVICE_UNHEALTHY);
      return reading;
    },
    metrics: (service, signal) =>
      tracked(service, signal, () => fetchMetrics(http(service), { signal: timeout(signal) })),
    livez: async (service, signal) => {
      const res = await fetch(`${http(service)}/livez`, {
        signal: timeout(signal),
        cache: "no-store",
      });
      await res.body?.cancel();
      if (!res.ok) {
        throw new StatusEndpointError(res.status, `GET /livez answered ${res.status}`);
      }
    },
  };
}

function timeout(signal?: AbortSignal): AbortSignal {
  const limit = AbortSignal.timeout(CALL_TIMEOUT_MS);
  return signal ? AbortSignal.any([signal, limit]) : limit;
}
