/**
 * JSON-lines logging with secret redaction: one object a line on stdout (errors on stderr).
 *
 * @module
 */

import { traceFields } from "./trace_fields.ts";

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const secretKey = /pass(word)?|secret|token|authorization|cookie|credential|api[_-]?key/i;

/** Structured fields of a log line. */
export type LogFields = Record<string, unknown>;

/**
 * A structured logger. Keys that look like secrets are replaced by "[redacted]" at any depth.
 *
 * @example
 * ```ts
 * const log = new Logger("users", "info");
 * log.info("registered", { user_id: "u1", password: "never shown" });
 * ```
 */
export class Logger {
  /**
   * A logger for one service.
   *
   * @param service The `service` field of every line.
   * @param level The least severe level written.
   * @param base Fields every line carries.
   */
  constructor(
    readonly service: string,
    readonly level: LogLevel = "info",
    private readonly base: LogFields = {},
  ) {}

  /** A logger whose lines all carry these fields. */
  with(fields: LogFields): Logger {
    return new Logger(this.service, this.level, { ...this.base, ...fields });
  }

  /** A line for debugging, written only at level `debug`. */
  debug(msg: string, fields?: LogFields): void {
    this.write("debug", msg, fields);
  }
  /** A line about normal operation. */
  info(msg: string, fields?: LogFields): void {
    this.write("info", msg, fields);
  }
  /** A line about something unexpected that the service handled. */
  warn(msg: string, fields?: LogFields): void {
    this.write("warn", msg, fields);
  }
  /** A line about a failure (on stderr). */
  error(msg: string, fields?: LogFields): void {
    this.write("error", msg, fields);
  }

  /** Writes one JSON line: time, level, service, msg, the active trace's ids, then the fields. */
  private write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (levelRank[level] < levelRank[this.level]) return;
    const line = JSON.stringify({
      time: new Date().toISOString(),
      level,
      service: this.service,
      msg,
      ...traceFields(),
      ...redact(this.base),
      ...redact(fields ?? {}),
    });
    if (level === "error") console.error(line);
    else console.log(line);
  }
}

/**
 * Copies a value, replacing secret-looking keys and turning errors into plain objects.
 *
 * @example
 * ```ts
 * redact({ token: "abc", user: "u1" }); // { token: "[redacted]", user: "u1" }
 * ```
 */
export function redact(value: LogFields, depth = 0): LogFields {
  const out: LogFields = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = secretKey.test(key) ? "[redacted]" : redactValue(item, depth);
  }
  return out;
}

function redactValue(value: unknown, depth: number): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message };
  }
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  return redact(value as LogFields, depth + 1);
}
