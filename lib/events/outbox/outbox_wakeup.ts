/**
 * The wake-up of an outbox's relays: the statement trigger of the outbox table
 * (outbox_table.ts) runs `pg_notify('<table>_inserted', '')` after every insert, and each relay
 * LISTENs on that channel, so an event is published right after its transaction commits
 * (PostgreSQL delivers notifications at commit). The relay also polls, so a lost notification
 * (a dropped LISTEN connection) only delays.
 *
 * @module
 */
import type { Database } from "../../db/database.ts";
import { outboxChannel } from "./outbox_table.ts";

/** Stops listening. */
export type StopListening = () => Promise<void>;

/**
 * Calls `onInsert` whenever rows are inserted into `table` (after their commit), on any replica.
 * Throws when LISTEN fails (the caller falls back to polling).
 *
 * @example
 * ```ts
 * const stop = await listenForOutboxInserts(db, "task_outbox", () => relay.poke());
 * await stop();
 * ```
 */
export async function listenForOutboxInserts(
  db: Database,
  table: string,
  onInsert: () => void,
): Promise<StopListening> {
  const listener = await db.sql.listen(outboxChannel(table), onInsert);
  return () => listener.unlisten();
}
