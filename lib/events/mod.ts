/**
 * Events over NATS JetStream: the event catalog (subjects, streams, schemas), connections, the
 * platform's streams, the event codec, notifications addressed to one user, the transactional
 * outbox (table, writer, wake-up, relay) and the durable consumer.
 *
 * @module
 */
export * from "./catalog.ts";
export * from "./catalog_docs.ts";
export * from "./durable_consumer.ts";
export * from "./event_codec.ts";
export * from "./event_dispatch.ts";
export * from "./message_headers.ts";
export * from "./nats_connection.ts";
export * from "./notification_events.ts";
export * from "./outbox/mod.ts";
export * from "./streams.ts";
// The library types the API above is declared with, so that they are nameable from here.
export type { DescMessage, JsonValue, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
export type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
export type { NatsConnection } from "@nats-io/transport-node";
