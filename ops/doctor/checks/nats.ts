/**
 * Doctor: NATS JetStream: the platform's streams (TASKS, PROPOSALS, PRESENCE, NOTIFICATIONS: the
 * event catalog's, lib/events/catalog.ts) and every consumer's backlog (pending), unacknowledged and redelivered
 * messages.
 *
 * @module
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { STREAM_NAMES } from "@platform/lib/events";
import { errorMessage } from "../../shared/errors.ts";
import { formatBytes, formatCount } from "../../shared/format.ts";
import { connectNatsOnce } from "../../shared/nats.ts";
import type { Finding } from "../finding.ts";

/** The streams the services create at start (the event catalog's). */
export const PLATFORM_STREAMS: readonly string[] = STREAM_NAMES;
/** A consumer further behind than this many messages is flagged. */
export const PENDING_WARN = 1000;
/** More redeliveries than this means a handler keeps failing or timing out. */
export const REDELIVERED_WARN = 10;

/** One consumer's state. */
export interface ConsumerState {
  /** The stream consumed. */
  stream: string;
  /** The consumer's durable name. */
  consumer: string;
  /** Messages not yet delivered to it (its backlog). */
  pending: number;
  /** Messages delivered and not yet acknowledged. */
  ackPending: number;
  /** Messages delivered more than once and not yet acknowledged. */
  redelivered: number;
  /** Pull requests waiting for messages. */
  waiting: number;
}

/**
 * Findings for the server, each stream and each consumer.
 *
 * @example
 * ```ts
 * const findings = await checkNats(config.natsUrl);
 * ```
 */
export async function checkNats(url: string, timeoutMs = 3000): Promise<Finding[]> {
  let nc;
  try {
    nc = await connectNatsOnce(url, timeoutMs);
  } catch (error) {
    return [{
      group: "nats",
      check: "server",
      status: "fail",
      summary: errorMessage(error),
      action: [
        "the task service and orchestrator need NATS (events are kept in their outboxes meanwhile)",
        "docker compose restart nats; or kubectl rollout restart deployment/nats -n freelance-platform",
        "curl http://nats:8222/varz (server state), curl http://nats:8222/healthz?js-enabled-only=true",
      ],
    }];
  }
  const findings: Finding[] = [];
  try {
    const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
    const streams = [];
    for await (const info of jsm.streams.list()) streams.push(info);
    const names = new Set(streams.map((s) => s.config.name));
    findings.push({
      group: "nats",
      check: "server",
      status: "ok",
      summary: `nats-server ${nc.info?.version ?? "?"}` +
        (nc.info?.server_name && nc.info.server_name !== nc.info.server_id
          ? ` (${nc.info.server_name})`
          : "") +
        `, JetStream on, ${streams.length} stream(s)`,
    });
    for (const name of PLATFORM_STREAMS.filter((n) => !names.has(n))) {
      findings.push({
        group: "nats",
        check: `stream ${name}`,
        status: "warn",
        summary: "missing",
        action: ["start the task service and orchestrator: they create the streams at start"],
      });
    }
    for (const stream of streams) {
      const state = stream.state;
      const consumers: ConsumerState[] = [];
      for await (const ci of jsm.consumers.list(stream.config.name)) {
        consumers.push({
          stream: stream.config.name,
          consumer: ci.name,
          pending: ci.num_pending,
          ackPending: ci.num_ack_pending,
          redelivered: ci.num_redelivered,
          waiting: ci.num_waiting,
        });
      }
      findings.push({
        group: "nats",
        check: `stream ${stream.config.name}`,
        status: "info",
        summary: `${formatCount(state.messages)} messages (${formatBytes(state.bytes)}), ` +
          `${consumers.length} consumer(s), subjects ${stream.config.subjects?.join(" ")}`,
        data: {
          messages: state.messages,
          bytes: state.bytes,
          firstSeq: state.first_seq,
          lastSeq: state.last_seq,
        },
      });
      for (const c of consumers) {
        const behind = c.pending > PENDING_WARN;
        const failing = c.redelivered > REDELIVERED_WARN;
        findings.push({
          group: "nats",
          check: `consumer ${c.stream}/${c.consumer}`,
          status: behind || failing ? "warn" : "ok",
          summary:
            `pending ${formatCount(c.pending)}, unacknowledged ${formatCount(c.ackPending)}, ` +
            `redelivered ${formatCount(c.redelivered)}`,
          data: c,
          action: behind || failing
            ? [
              ...(behind
                ? [
                  "the consumer falls behind: check the consuming service's /health and logs; scale it up",
                ]
                : []),
              ...(failing
                ? [
                  "messages are redelivered: a handler keeps failing or timing out; find the event in the consumer's logs",
                ]
                : []),
              `last resort, drops the events for good (nothing re-sends them; unmatched tasks stay ` +
              `unmatched): deno task emergency purge-stream --stream ${c.stream}`,
            ]
            : undefined,
        });
      }
    }
  } catch (error) {
    findings.push({
      group: "nats",
      check: "jetstream",
      status: "fail",
      summary: `JetStream unavailable: ${errorMessage(error)}`,
      action: ["nats-server must run with JetStream enabled (-js); check its logs and storage"],
    });
  } finally {
    await nc.close().catch(() => {});
  }
  return findings;
}
