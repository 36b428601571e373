/**
 * Database work as child spans: one CLIENT span per pooled run or transaction
 * (`postgresql transaction`, `postgresql query`), made only inside a trace (a periodic sweep's
 * query outside any request starts no trace of its own), and active while the work runs, so
 * that the events a transaction writes to its outbox carry its context.
 *
 * @module
 */
import { context, SpanKind, trace } from "@opentelemetry/api";
import { failSpan, platformTracer } from "./tracer.ts";
import { tracingEnabled } from "./tracing_enabled.ts";

/**
 * Runs `work` in a CLIENT span `postgresql <operation>` when a trace is active here; else just
 * runs it.
 *
 * @example
 * ```ts
 * return traceDb("transaction", () => sql.begin(work));
 * ```
 */
export function traceDb<T>(operation: "transaction" | "query", work: () => Promise<T>): Promise<T> {
  if (!tracingEnabled) return work();
  const active = context.active();
  if (!trace.getSpan(active)?.isRecording()) return work();
  const span = platformTracer().startSpan(`postgresql ${operation}`, {
    kind: SpanKind.CLIENT,
    attributes: { "db.system.name": "postgresql", "db.operation.name": operation },
  }, active);
  return (async () => {
    try {
      return await context.with(trace.setSpan(active, span), work);
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  })();
}
