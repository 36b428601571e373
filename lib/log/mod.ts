/**
 * JSON log lines with secrets redacted, and the trace and span ids of the span they are written in.
 *
 * @module
 */
export * from "./logger.ts";
export * from "./trace_fields.ts";
