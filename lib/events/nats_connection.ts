/**
 * A NATS connection that keeps trying: nats.js's `waitOnFirstConnect` never gives up and never
 * reports, so the first connection is retried here with backoff and logged, and later
 * disconnections are left to nats.js's own reconnect (unlimited).
 *
 * @module
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log/logger.ts";

/**
 * Connects, retrying with capped backoff until `signal` aborts.
 *
 * @example
 * ```ts ignore
 * const nc = await connectNats("nats://127.0.0.1:4222", "tasks", logger);
 * ```
 */
export async function connectNats(
  url: string,
  name: string,
  logger: Logger,
  signal?: AbortSignal,
): Promise<NatsConnection> {
  // One server or a cluster's list; nats.js wants host:port (nats://) or the URL (tls://).
  const servers = url.split(",").map((item) => item.trim().replace(/^nats:\/\//, ""));
  let delay = 250;
  for (let attempt = 1;; attempt++) {
    try {
      const nc = await connect({
        servers,
        name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        timeout: 2000,
        pingInterval: 10_000,
      });
      if (attempt > 1) logger.info("connected to NATS", { attempt });
      return nc;
    } catch (error) {
      if (signal?.aborted) throw error;
      if (attempt === 1 || attempt % 10 === 0) {
        logger.warn("NATS unreachable; retrying", { attempt, error, retry_in_ms: delay });
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

/**
 * The health check: a round trip to the server (flush) unless the connection is closed.
 *
 * @example
 * ```ts ignore
 * await pingNats(nc);
 * ```
 */
export async function pingNats(nc: NatsConnection | undefined): Promise<void> {
  if (!nc || nc.isClosed()) throw new Error("not connected to NATS");
  await nc.flush();
}
