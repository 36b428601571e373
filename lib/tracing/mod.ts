/**
 * Tracing with Deno's built-in OpenTelemetry (`OTEL_DENO=true`; see docs/operations.md): the RPC
 * span, database and NATS child spans, and the W3C trace context that outbox rows and NATS
 * headers carry from one service to the next. With tracing off every helper here does nothing
 * and makes nothing.
 *
 * @module
 */
export * from "./db_spans.ts";
export * from "./messaging_spans.ts";
export * from "./redis_spans.ts";
export * from "./rpc_client_span.ts";
export * from "./rpc_span.ts";
export * from "./trace_context.ts";
export * from "./tracer.ts";
export * from "./tracing_enabled.ts";
