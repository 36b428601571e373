/**
 * JSON log lines with secrets redacted.
 *
 * @module
 */
export * from "./logger.ts";
