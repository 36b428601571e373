/**
 * Database work as child spans: one CLIENT span per pooled run or transaction
 * (`postgresql transaction`, `postgresql query`), made only inside a trace (a periodic sweep's
 * query outside any request starts no trace of its own), and active while the work runs, so
 * that the events a transaction writes to its outbox carry its context.
 *
 * @module
 */
import { inChildClientSpan } from "./tracer.ts";
import { tracingEnabled } from "./tracing_enabled.ts";

/**
 * Runs `work` in a CLIENT span `postgresql <operation>` when a trace is active here; else just
 * runs it.
 *
 * @example
 * ```ts ignore
 * return traceDb("transaction", () => sql.begin(work));
 * ```
 */
export function traceDb<T>(operation: "transaction" | "query", work: () => Promise<T>): Promise<T> {
  if (!tracingEnabled) return work();
  return inChildClientSpan(`postgresql ${operation}`, DB_ATTRIBUTES[operation], work);
}

const DB_ATTRIBUTES = {
  transaction: { "db.system.name": "postgresql", "db.operation.name": "transaction" },
  query: { "db.system.name": "postgresql", "db.operation.name": "query" },
} as const;
