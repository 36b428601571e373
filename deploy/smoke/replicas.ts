/**
 * `--scale userservice=3`: every replica must become healthy and serve requests that arrive
 * through the edge proxy (which re-resolves the service name every 5 s and spreads requests over
 * the addresses it gets).
 *
 * @module
 */
import { UserService } from "@platform/proto/users/v1";
import { eventually, SmokeError } from "./command.ts";
import type { Compose, ContainerState } from "./compose.ts";
import { grpcWebClient } from "./flow.ts";

/**
 * The number of GetUser calls a replica has handled, from its /metrics text.
 *
 * @example
 * ```ts
 * handledGetUser('grpc_server_handled_total{grpc_type="unary",grpc_service="platform.users.v1.UserService",grpc_method="GetUser",grpc_code="OK"} 7');
 * // 7
 * ```
 */
export function handledGetUser(metrics: string): number {
  return metrics.split("\n")
    .filter((line) =>
      line.startsWith("grpc_server_handled_total{") && line.includes('grpc_method="GetUser"')
    )
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

/** Reads a replica's /metrics from inside its container (replicas publish no port). */
async function metricsOf(compose: Compose, container: ContainerState): Promise<string> {
  return await compose.engine.docker([
    "exec",
    container.id,
    "deno",
    "eval",
    "const r = await fetch('http://127.0.0.1:50051/metrics'); console.log(await r.text());",
  ], { timeoutMs: 60_000 });
}

/**
 * Scales the User Service to `replicas`, waits for them, then calls GetUser through the edge until
 * every replica has served some (within a minute).
 *
 * @example
 * ```ts
 * const served = await scaleAndCheck(compose, "http://10.213.77.2:50051", token, userId, 3);
 * ```
 */
export async function scaleAndCheck(
  compose: Compose,
  usersUrl: string,
  token: string,
  userId: string,
  replicas: number,
  say: (line: string) => void,
): Promise<Record<string, number>> {
  await compose.run(["up", "-d", "--no-recreate", "--scale", `userservice=${replicas}`], {
    timeoutMs: 300_000,
  });
  const containers = await compose.waitHealthy(240_000, "userservice");
  if (containers.length !== replicas) {
    throw new SmokeError(`${containers.length} userservice containers, not ${replicas}`);
  }
  say(`    ${replicas} userservice replicas healthy: ${containers.map((c) => c.id).join(", ")}`);
  const before = new Map<string, number>();
  for (const c of containers) before.set(c.id, handledGetUser(await metricsOf(compose, c)));

  const users = grpcWebClient(UserService, usersUrl, token);
  const served = await eventually(
    async () => {
      for (let i = 0; i < 30; i++) await users.getUser({ userId });
      const counts: Record<string, number> = {};
      for (const c of containers) {
        counts[c.id] = handledGetUser(await metricsOf(compose, c)) - before.get(c.id)!;
      }
      return Object.values(counts).every((n) => n > 0) ? counts : undefined;
    },
    90_000,
    () => "every userservice replica to serve GetUser calls made through the edge",
    2000,
  );
  say(
    `    GetUser through the edge, per replica: ${
      Object.entries(served).map(([id, n]) => `${id} ${n}`).join(", ")
    }`,
  );
  return served;
}
