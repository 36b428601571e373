/**
 * The platform's tracer. Deno registers its own tracer provider with `@opentelemetry/api`, so
 * spans made here go out with Deno's own (HTTP server, fetch) to the same OTLP endpoint.
 *
 * @module
 */
import { type Span, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";

/** `@opentelemetry/api`'s span and tracer types. */
export type { Span, Tracer };

/**
 * The tracer of platform code (scope `freelance-platform`).
 *
 * @example
 * ```ts
 * const span = platformTracer().startSpan("work");
 * span.end();
 * ```
 */
export function platformTracer(): Tracer {
  return trace.getTracer("freelance-platform", "1.0.0");
}

/**
 * Marks a span failed with the error's message, and records the error as an event.
 *
 * @example
 * ```ts
 * try { await work(); } catch (error) { failSpan(span, error); throw error; } finally { span.end(); }
 * ```
 */
export function failSpan(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  if (error instanceof Error) span.recordException(error);
}
