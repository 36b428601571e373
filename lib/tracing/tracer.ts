/**
 * The platform's tracer. Deno registers its own tracer provider with `@opentelemetry/api`, so
 * spans made here go out with Deno's own (HTTP server, fetch) to the same OTLP endpoint.
 *
 * @module
 */
import {
  type Attributes,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { tracingEnabled } from "./tracing_enabled.ts";

/** `@opentelemetry/api`'s span, tracer and attribute types. */
export type { Attributes, Span, Tracer };

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
 * ```ts ignore
 * try { await work(); } catch (error) { failSpan(span, error); throw error; } finally { span.end(); }
 * ```
 */
export function failSpan(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  if (error instanceof Error) span.recordException(error);
}

/**
 * Runs `work` in a CLIENT span (a call to a database, a cache...) active while it runs, when a
 * trace is active here; else just runs it: work outside any request (a periodic sweep) starts no
 * trace of its own. A failure marks the span and is rethrown.
 *
 * @example
 * ```ts ignore
 * const rows = await inChildClientSpan("postgresql query", { "db.system.name": "postgresql" }, run);
 * ```
 */
export function inChildClientSpan<T>(
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  if (!tracingEnabled) return work();
  const active = context.active();
  if (!trace.getSpan(active)?.isRecording()) return work();
  const span = platformTracer().startSpan(name, { kind: SpanKind.CLIENT, attributes }, active);
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
