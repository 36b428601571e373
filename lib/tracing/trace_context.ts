/**
 * W3C trace context (`traceparent`, `tracestate`) as plain strings, for carriers that are not
 * HTTP: outbox rows and NATS message headers.
 *
 * @module
 */
import { type Context, context, type SpanContext, trace, TraceFlags } from "@opentelemetry/api";
import { tracingEnabled } from "./tracing_enabled.ts";

/** `@opentelemetry/api`'s types of a span's identity and of a propagation context. */
export type { Context, SpanContext };

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = "00000000000000000000000000000000";
const ZERO_SPAN = "0000000000000000";

/**
 * The span context a `traceparent` header names, or undefined when it is absent or invalid.
 *
 * @example
 * ```ts
 * parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * // { traceId: "4bf9...", spanId: "00f0...", traceFlags: 1, isRemote: true }
 * ```
 */
export function parseTraceparent(
  traceparent: string | null | undefined,
  tracestate?: string | null,
): SpanContext | undefined {
  if (!traceparent) return undefined;
  const match = TRACEPARENT.exec(traceparent.trim().toLowerCase());
  if (!match || match[1] === ZERO_TRACE || match[2] === ZERO_SPAN) return undefined;
  const spanContext: SpanContext = {
    traceId: match[1],
    spanId: match[2],
    traceFlags: parseInt(match[3], 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  if (tracestate) {
    // Kept as received; the API only needs serialize() to pass it on.
    spanContext.traceState = rawTraceState(tracestate);
  }
  return spanContext;
}

/**
 * The `traceparent` header of a span context.
 *
 * @example
 * ```ts ignore
 * formatTraceparent(span.spanContext()); // "00-<trace id>-<span id>-01"
 * ```
 */
export function formatTraceparent(spanContext: SpanContext): string {
  const flags = spanContext.traceFlags & TraceFlags.SAMPLED ? "01" : "00";
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

/**
 * The `traceparent` of the span active here, or undefined with tracing off or outside a span.
 * The outbox writer stores it with each event.
 *
 * @example
 * ```ts
 * const traceparent = activeTraceparent(); // "00-...-...-01" inside an RPC
 * ```
 */
export function activeTraceparent(): string | undefined {
  if (!tracingEnabled) return undefined;
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  return formatTraceparent(spanContext);
}

/**
 * A context whose parent is the span a `traceparent` names, on top of `base` (the active
 * context by default); `base` itself when the header is absent or invalid.
 *
 * @example
 * ```ts ignore
 * const parent = contextFromTraceparent(headers.get("traceparent"), headers.get("tracestate"));
 * tracer.startSpan("process task.created", {}, parent);
 * ```
 */
export function contextFromTraceparent(
  traceparent: string | null | undefined,
  tracestate?: string | null,
  base: Context = context.active(),
): Context {
  const spanContext = parseTraceparent(traceparent, tracestate);
  return spanContext ? trace.setSpanContext(base, spanContext) : base;
}

function rawTraceState(value: string): NonNullable<SpanContext["traceState"]> {
  const entries = value.split(",").map((e) => e.trim()).filter((e) => e.includes("="));
  const state = {
    set: () => state,
    unset: () => state,
    get: (key: string) => entries.find((e) => e.startsWith(`${key}=`))?.slice(key.length + 1),
    serialize: () => entries.join(","),
  };
  return state;
}
