/**
 * The trace of a log line: `trace_id` and `span_id` of the span active where the line is
 * written, so that a log search finds the trace and a trace view finds its lines.
 *
 * @module
 */
import { trace } from "@opentelemetry/api";
import { tracingEnabled } from "../tracing/tracing_enabled.ts";

const NONE: Readonly<Record<string, string>> = Object.freeze({});

/**
 * `{ trace_id, span_id }` of the active span; an empty object with tracing off or outside a span.
 *
 * @example
 * ```ts
 * JSON.stringify({ msg: "task created", ...traceFields() });
 * ```
 */
export function traceFields(): Readonly<Record<string, string>> {
  if (!tracingEnabled) return NONE;
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return NONE;
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
