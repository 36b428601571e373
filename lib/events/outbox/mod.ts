/**
 * The transactional outbox every service uses: the table's shape (`outboxTableSql`), the writer
 * that inserts catalog events in the caller's transaction (`OutboxWriter`, `outboxEvent`), the
 * in-process wake-up after commit (`wakeOutboxRelays`), the relay that publishes them to
 * JetStream in order per entity with `Nats-Msg-Id` = event id (`OutboxRelay`: leadership held
 * for a session, pipelined publishes), and its gauges (`registerOutboxMetrics`).
 *
 * @module
 */
export * from "./outbox_metrics.ts";
export * from "./outbox_relay.ts";
export * from "./outbox_table.ts";
export * from "./outbox_wakeup.ts";
export * from "./outbox_writer.ts";
