/**
 * The wake-up of an outbox's relays, in-process: a writer that committed events calls
 * {@link wakeOutboxRelays} (OutboxWriter does it after the transaction it wrote in commits, see
 * `afterCommit` in lib/db), and every relay of that table in this process looks for rows at once.
 * There is no per-row trigger and no LISTEN: a relay also polls its table every
 * `pollIntervalMs` (OUTBOX_POLL_MS, default 250 ms), so events committed by another replica (or
 * by a writer that does not wake) are found within that bound (plus one publish round).
 *
 * @module
 */
import { assertOutboxTable } from "./outbox_table.ts";

const listeners = new Map<string, Set<() => void>>();

/**
 * Wakes the relays of `table` in this process (call it after the events' transaction committed).
 *
 * @example
 * ```ts ignore
 * await db.transaction((tx) => outbox.write(tx, events));
 * wakeOutboxRelays("task_outbox"); // OutboxWriter already does this after commit
 * ```
 */
export function wakeOutboxRelays(table: string): void {
  const set = listeners.get(table);
  if (!set) return;
  for (const listener of set) listener();
}

/** Stops listening. */
export type StopListening = () => void;

/**
 * Calls `onWake` whenever a writer of this process committed events into `table`.
 *
 * @example
 * ```ts ignore
 * const stop = onOutboxWake("task_outbox", () => relay.poke());
 * stop();
 * ```
 */
export function onOutboxWake(table: string, onWake: () => void): StopListening {
  assertOutboxTable(table);
  let set = listeners.get(table);
  if (!set) listeners.set(table, set = new Set());
  set.add(onWake);
  return () => {
    set.delete(onWake);
    if (set.size === 0 && listeners.get(table) === set) listeners.delete(table);
  };
}
