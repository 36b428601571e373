/**
 * The one home of what the platform knows about PostgreSQL's errors: the SQLSTATE codes it acts
 * on, their classes, and the errors of the connection itself (postgres.js and the network).
 * Everything that decides on a database error (the mapping to Connect codes in lib/errors.ts,
 * the pool in database.ts, group commit's isolation, consumers, migrations, ops) asks here.
 *
 * The question that matters for a write is whether it may have been done:
 * - {@link refusesWork}: the server refused the statement or the connection (read-only, disk
 *   full, too many connections, starting up, connection refused): nothing was done.
 * - {@link isConnectionLost}: the connection ended or timed out while a statement may have been
 *   running: a write's outcome is unknown unless nothing had been sent yet.
 *
 * @module
 */

/** The SQLSTATE codes the platform acts on, by PostgreSQL's condition names. */
export const SQLSTATE = {
  /** 23505: a unique constraint (a duplicate). */
  uniqueViolation: "23505",
  /** 40001: serialization failure; nothing was written, retrying may succeed. */
  serializationFailure: "40001",
  /** 40P01: deadlock detected; nothing was written, retrying may succeed. */
  deadlockDetected: "40P01",
  /** 57014: the statement was cancelled (statement_timeout or a cancel request). */
  queryCanceled: "57014",
  /** 57P01: the server is shutting down (`pg_ctl stop -m fast`) or the backend was terminated. */
  adminShutdown: "57P01",
  /** 57P02: the server crashed (`-m immediate`) and ends every session. */
  crashShutdown: "57P02",
  /** 57P03: the server is starting up or in recovery and takes no connection yet. */
  cannotConnectNow: "57P03",
  /** 25006: a write on a read-only server or transaction (a standby, `default_transaction_read_only`). */
  readOnlySqlTransaction: "25006",
  /** 53100: disk full. */
  diskFull: "53100",
  /** 53200: out of memory. */
  outOfMemory: "53200",
  /** 53300: too many connections. */
  tooManyConnections: "53300",
  /** 42P01: the table does not exist. */
  undefinedTable: "42P01",
  /** 42P04: the database already exists. */
  duplicateDatabase: "42P04",
  /** 3D000: the database does not exist. */
  invalidCatalogName: "3D000",
  /** 28P01: wrong password. */
  invalidPassword: "28P01",
  /** 28000: the login is not allowed (pg_hba.conf). */
  invalidAuthorization: "28000",
} as const;

/** Codes of postgres.js and the network that mean no connection could be made. */
const CONNECT_FAILED = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "CONNECT_TIMEOUT",
  "CONNECTION_ENDED", // the pool was closed: the query was never sent
]);

/** Codes that mean an open connection ended: a statement on it may have run, or not. */
const CONNECTION_LOST = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  SQLSTATE.adminShutdown,
  SQLSTATE.crashShutdown,
]);

/** The same, for errors that carry them only in their message (Deno's node:net). */
const CONNECTION_LOST_MESSAGE =
  /ECONNRESET|EPIPE|socket has been ended|CONNECTION_(CLOSED|DESTROYED)|Connection reset/i;
const CONNECT_FAILED_MESSAGE = /ECONNREFUSED|Connection refused|CONNECT_TIMEOUT/i;

/**
 * The error's SQLSTATE (or postgres.js / network code), if it has one.
 *
 * @example
 * ```ts
 * sqlState({ code: "23505" }); // "23505"
 * ```
 */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" ? code : undefined;
}

/** The error's message, if it has one. */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown })?.message;
  return typeof message === "string" ? message : "";
}

/**
 * True for a unique-constraint violation (23505).
 *
 * @example
 * ```ts
 * isUniqueViolation({ code: "23505" }); // true
 * ```
 */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === SQLSTATE.uniqueViolation;
}

/**
 * True for a data exception (class 22: a NUL byte, a value out of range) or a limit (class 54:
 * a value too large to index): the input was bad, the statement wrote nothing, and the same
 * input fails the same way forever.
 *
 * @example
 * ```ts
 * isBadData({ code: "22021" }); // true
 * ```
 */
export function isBadData(error: unknown): boolean {
  return /^(22|54)[0-9A-Z]{3}$/.test(sqlState(error) ?? "");
}

/**
 * True for an error one row of a multi-row statement may have caused: a data exception (class
 * 22) or an integrity constraint (class 23). Group commit retries such a batch member by member.
 *
 * @example
 * ```ts
 * isRowError({ code: "23503" }); // true
 * ```
 */
export function isRowError(error: unknown): boolean {
  return /^2[23][0-9A-Z]{3}$/.test(sqlState(error) ?? "");
}

/**
 * True for a serialization failure or deadlock: PostgreSQL aborted the transaction, nothing was
 * written, and the same call may succeed when retried.
 *
 * @example
 * ```ts
 * isConflict({ code: "40P01" }); // true
 * ```
 */
export function isConflict(error: unknown): boolean {
  const code = sqlState(error);
  return code === SQLSTATE.serializationFailure || code === SQLSTATE.deadlockDetected;
}

/**
 * True when the statement was cancelled (57014: statement_timeout or a cancel request).
 *
 * @example
 * ```ts
 * isQueryCanceled({ code: "57014" }); // true
 * ```
 */
export function isQueryCanceled(error: unknown): boolean {
  return sqlState(error) === SQLSTATE.queryCanceled;
}

/**
 * True when the server refused the work, so nothing of it was done: no connection could be made
 * (refused, timed out connecting, too many connections, starting up), or the statement was
 * refused (a read-only server, disk full, out of memory) and rolled back.
 *
 * @example
 * ```ts
 * refusesWork({ code: "25006" }); // true: a read-only server
 * ```
 */
export function refusesWork(error: unknown): boolean {
  const code = sqlState(error);
  if (code !== undefined) {
    if (CONNECT_FAILED.has(code) || /^(08001|08004)$/.test(code)) return true;
    if (
      code === SQLSTATE.cannotConnectNow || code === SQLSTATE.tooManyConnections ||
      code === SQLSTATE.readOnlySqlTransaction || code === SQLSTATE.diskFull ||
      code === SQLSTATE.outOfMemory
    ) return true;
  }
  return CONNECT_FAILED_MESSAGE.test(messageOf(error)) && !isConnectionLost(error);
}

/**
 * True when an open connection ended (reset, closed, the server shutting down or crashing):
 * a statement sent on it may have been done or not.
 *
 * @example
 * ```ts
 * isConnectionLost({ code: "CONNECTION_CLOSED" }); // true
 * ```
 */
export function isConnectionLost(error: unknown): boolean {
  const code = sqlState(error);
  if (code !== undefined && (CONNECTION_LOST.has(code) || /^08[0-9A-Z]{3}$/.test(code))) {
    return !/^(08001|08004)$/.test(code);
  }
  return CONNECTION_LOST_MESSAGE.test(messageOf(error));
}

/**
 * True for any error that means the database could not be reached or the connection was lost
 * (not an error of the SQL).
 *
 * @example
 * ```ts
 * isConnectionError({ code: "ECONNREFUSED" }); // true
 * ```
 */
export function isConnectionError(error: unknown): boolean {
  const code = sqlState(error);
  return isConnectionLost(error) ||
    (code !== undefined &&
      (CONNECT_FAILED.has(code) || code === SQLSTATE.cannotConnectNow ||
        code === SQLSTATE.tooManyConnections)) ||
    CONNECT_FAILED_MESSAGE.test(messageOf(error));
}
