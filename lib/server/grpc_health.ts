/**
 * The standard gRPC health service (grpc.health.v1) on top of the {@link HealthMonitor}.
 * "" means the whole server; a registered service name asks about that service. Two more names
 * answer as `/livez` and `/readyz` do, for Kubernetes' `grpc:` probes: "liveness" (SERVING while
 * the process runs) and "readiness" (NOT_SERVING only while draining; a dependency being down
 * does not take every replica out of its Service).
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthCheckResponseSchema,
} from "@platform/proto/grpc/health/v1";
import type { HealthMonitor } from "../health/health_monitor.ts";
import { frozenMessage } from "./frozen_message.ts";

/** The health service name Kubernetes' liveness probe asks (`grpc: {service: liveness}`). */
export const LIVENESS = "liveness";
/** The health service name Kubernetes' readiness probe asks (`grpc: {service: readiness}`). */
export const READINESS = "readiness";

/**
 * Check answers SERVING unless a critical dependency is down; Watch streams each change.
 *
 * @example
 * ```ts ignore
 * router.service(Health, grpcHealthService(monitor, ["platform.users.v1.UserService"], () => draining));
 * ```
 */
export function grpcHealthService(
  monitor: HealthMonitor,
  serviceNames: readonly string[],
  isDraining: () => boolean,
  watchIntervalMs = 2000,
): Partial<ServiceImpl<typeof Health>> {
  const known = new Set(["", ...serviceNames, LIVENESS, READINESS]);
  // Check answers one of two messages: made once, encoded once by the fast path.
  const answers = new Map<
    ServingStatus,
    ReturnType<typeof frozenMessage<typeof HealthCheckResponseSchema>>
  >([
    [
      ServingStatus.SERVING,
      frozenMessage(HealthCheckResponseSchema, { status: ServingStatus.SERVING }),
    ],
    [
      ServingStatus.NOT_SERVING,
      frozenMessage(HealthCheckResponseSchema, { status: ServingStatus.NOT_SERVING }),
    ],
  ]);
  const status = async (service: string): Promise<ServingStatus> => {
    if (!known.has(service)) return ServingStatus.SERVICE_UNKNOWN;
    if (service === LIVENESS) return ServingStatus.SERVING;
    if (isDraining()) return ServingStatus.NOT_SERVING;
    if (service === READINESS) return ServingStatus.SERVING;
    return (await monitor.status()) === "unhealthy"
      ? ServingStatus.NOT_SERVING
      : ServingStatus.SERVING;
  };
  return {
    async check(request) {
      const current = await status(request.service);
      if (current === ServingStatus.SERVICE_UNKNOWN) {
        throw new ConnectError(`unknown service ${request.service}`, Code.NotFound);
      }
      return answers.get(current) ?? create(HealthCheckResponseSchema, { status: current });
    },
    async *watch(request, ctx) {
      let last: ServingStatus | undefined;
      while (!ctx.signal.aborted) {
        const current = await status(request.service);
        if (current !== last) {
          yield create(HealthCheckResponseSchema, { status: current });
          last = current;
        }
        if (isDraining()) return; // NOT_SERVING was the last word; let the server drain

        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, watchIntervalMs);
          ctx.signal.addEventListener("abort", done, { once: true });
          function done() {
            clearTimeout(timer);
            ctx.signal.removeEventListener("abort", done);
            resolve();
          }
        });
      }
    },
  };
}
