/**
 * A one-shot NATS connection for ops programs: a bounded first connect and no reconnects, so an
 * unreachable server is reported instead of waited on forever.
 *
 * @module
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { redactUrl } from "@platform/lib/config";
import { errorMessage, OpsError } from "./errors.ts";

/**
 * Connects once or throws an {@link OpsError} naming the (redacted) server.
 *
 * @example
 * ```ts
 * const nc = await connectNatsOnce(config.natsUrl);
 * await nc.close();
 * ```
 */
export async function connectNatsOnce(url: string, timeoutMs = 3000): Promise<NatsConnection> {
  try {
    return await connect({
      servers: url.split(",").map((s) => s.trim()),
      name: "fp-ops",
      timeout: timeoutMs,
      reconnect: false,
      maxReconnectAttempts: 0,
    });
  } catch (error) {
    throw new OpsError(`cannot reach NATS at ${redactUrl(url)}: ${errorMessage(error)}`, {
      cause: error,
      hint: "check NATS_URL and that nats-server runs with JetStream (-js)",
    });
  }
}
