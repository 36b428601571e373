/**
 * Events over NATS JetStream: connections, the platform's streams, the event codec, the
 * transactional outbox relay and the durable consumer.
 *
 * @module
 */
export * from "./durable_consumer.ts";
export * from "./event_codec.ts";
export * from "./nats_connection.ts";
export * from "./outbox_relay.ts";
export * from "./streams.ts";
