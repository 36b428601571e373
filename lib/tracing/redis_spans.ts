/**
 * Redis commands as child spans (`redis PUBLISH`: the profile cache's invalidation an update
 * waits for), made only inside a trace, as db_spans.ts does for PostgreSQL.
 *
 * @module
 */
import { inChildClientSpan } from "./tracer.ts";
import { tracingEnabled } from "./tracing_enabled.ts";

/**
 * Runs one Redis command in a CLIENT span `redis <command>` when a trace is active here; else
 * just runs it.
 *
 * @example
 * ```ts ignore
 * const raw = await traceRedis("GET", () => client.get(key));
 * ```
 */
export function traceRedis<T>(command: string, work: () => Promise<T>): Promise<T> {
  if (!tracingEnabled) return work();
  return inChildClientSpan(`redis ${command}`, {
    "db.system.name": "redis",
    "db.operation.name": command,
  }, work);
}
