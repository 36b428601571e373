/**
 * Typed domain errors and their one mapping to Connect codes.
 *
 * Domain code throws these (no RPC types in it); the server's error interceptor turns them, and
 * the errors of PostgreSQL and the network, into a {@link ConnectError} a caller can act on.
 *
 * @example
 * ```ts
 * import { NotFoundError, toConnectError } from "@platform/lib/errors";
 *
 * const error = toConnectError(new NotFoundError("user", "u1"));
 * console.log(error?.code, error?.rawMessage); // Code.NotFound 'user "u1" was not found'
 * ```
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import {
  isBadData,
  isConflict,
  isConnectionLost,
  isQueryCanceled,
  isUniqueViolation,
  refusesWork,
} from "./db/pg_errors.ts";

/** Bad input. `field` names the request field at fault (proto name, such as `skill_tags`). */
export class ValidationError extends Error {
  /**
   * Creates the error.
   *
   * @param field The request field at fault, by its proto name.
   * @param problem What is wrong with it.
   *
   * @example
   * ```ts
   * const error = new ValidationError("email", "must be an email address such as dev@example.com");
   * ```
   */
  constructor(readonly field: string, readonly problem: string) {
    super(`${field}: ${problem}`);
    this.name = "ValidationError";
  }
}

/** A named thing does not exist. */
export class NotFoundError extends Error {
  /**
   * Creates the error.
   *
   * @param kind What was looked for, e.g. `user`.
   * @param id Its id.
   *
   * @example
   * ```ts
   * const error = new NotFoundError("user", "0b6c2f3e-4f1a-4a53-9d1e-5f0e7c2b8a11");
   * ```
   */
  constructor(readonly kind: string, readonly id: string) {
    super(`${kind} ${JSON.stringify(id)} was not found`);
    this.name = "NotFoundError";
  }
}

/** The thing already exists (a duplicate). */
export class AlreadyExistsError extends Error {
  /**
   * Creates the error.
   *
   * @param message What already exists, for the caller.
   *
   * @example
   * ```ts
   * const error = new AlreadyExistsError("an account with this email already exists");
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "AlreadyExistsError";
  }
}

/** The caller is not who they must be (no token, bad token, wrong password). */
export class UnauthenticatedError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong and what to do, for the caller.
   *
   * @example
   * ```ts
   * const error = new UnauthenticatedError("the token has expired; log in again");
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "UnauthenticatedError";
  }
}

/** The caller is known but may not do this. */
export class PermissionDeniedError extends Error {
  /**
   * Creates the error.
   *
   * @param message What the caller may not do, for the caller.
   *
   * @example
   * ```ts
   * const error = new PermissionDeniedError("only developers can go online");
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "PermissionDeniedError";
  }
}

/** The state forbids it now, such as a transition the state machine does not allow. */
export class FailedPreconditionError extends Error {
  /**
   * Creates the error.
   *
   * @param message What state forbids it, for the caller.
   *
   * @example
   * ```ts
   * const error = new FailedPreconditionError("task is COMPLETED; it cannot be cancelled");
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "FailedPreconditionError";
  }
}

/** The caller has tried too often; it may try again after `retryAfterSeconds`. */
export class RateLimitedError extends Error {
  /**
   * Creates the error; its message says when to try again.
   *
   * @param what What was refused, e.g. `too many failed logins`.
   * @param retryAfterSeconds Seconds until a new attempt can be accepted (at least 1).
   *
   * @example
   * ```ts
   * const error = new RateLimitedError("too many failed logins", 120);
   * console.log(error.message); // "too many failed logins; try again in 120 s"
   * ```
   */
  constructor(what: string, readonly retryAfterSeconds: number) {
    super(`${what}; try again in ${retryAfterSeconds} s`);
    this.name = "RateLimitedError";
  }
}

/** A dependency needed to answer is down or too slow. */
export class DependencyUnavailableError extends Error {
  /**
   * Creates the error; its message says to try again shortly.
   *
   * @param dependency The dependency, e.g. `database`.
   * @param cause The error it failed with.
   *
   * @example
   * ```ts
   * const error = new DependencyUnavailableError("database", new Error("connection refused"));
   * ```
   */
  constructor(readonly dependency: string, cause?: unknown) {
    super(`${dependency} is unavailable; try again shortly`, { cause });
    this.name = "DependencyUnavailableError";
  }
}

/**
 * A write was sent but its outcome is not known: the connection was lost, or the time ran out,
 * after the statement (or the COMMIT) left. It may have been done or not. Answered as
 * `deadline_exceeded` (the time ran out) or `unknown` (the connection was lost), never
 * `unavailable`, which promises that nothing was done: a caller retries with the same
 * idempotency key (the call then answers its first outcome), or reads before retrying.
 */
export class OutcomeUnknownError extends Error {
  /**
   * Creates the error; its message says that the outcome is unknown and how to retry.
   *
   * @param dependency The dependency, e.g. `database`.
   * @param reason Why the answer was lost: the time ran out, or the connection was lost.
   * @param cause The error it failed with.
   *
   * @example
   * ```ts
   * const error = new OutcomeUnknownError("database", "timeout", new Error("no answer in 3000ms"));
   * console.assert(error.message.includes("outcome is unknown"));
   * ```
   */
  constructor(
    readonly dependency: string,
    readonly reason: "timeout" | "connection lost",
    cause?: unknown,
  ) {
    super(
      `${dependency} did not confirm the write (${
        reason === "timeout" ? "no answer in time" : "connection lost"
      }): its outcome is unknown; retry with the same idempotency key, or check before retrying`,
      { cause },
    );
    this.name = "OutcomeUnknownError";
  }
}

/**
 * Maps any thrown value to a ConnectError. Returns undefined for an unexpected error, which the
 * caller logs and answers as `internal` without its message.
 *
 * @example
 * ```ts
 * toConnectError(new NotFoundError("user", "x"))?.code; // Code.NotFound
 * ```
 */
export function toConnectError(error: unknown): ConnectError | undefined {
  if (error instanceof ConnectError) return error;
  if (error instanceof ValidationError) {
    return new ConnectError(error.message, Code.InvalidArgument, undefined, undefined, error);
  }
  if (error instanceof NotFoundError) return new ConnectError(error.message, Code.NotFound);
  if (error instanceof AlreadyExistsError) {
    return new ConnectError(error.message, Code.AlreadyExists);
  }
  if (error instanceof UnauthenticatedError) {
    return new ConnectError(error.message, Code.Unauthenticated);
  }
  if (error instanceof PermissionDeniedError) {
    return new ConnectError(error.message, Code.PermissionDenied);
  }
  if (error instanceof FailedPreconditionError) {
    return new ConnectError(error.message, Code.FailedPrecondition);
  }
  if (error instanceof RateLimitedError) {
    // `retry-after` (RFC 9110, seconds) goes out as a response header (Connect) or trailer
    // (gRPC-web), so that a client can wait without parsing the message.
    return new ConnectError(error.message, Code.ResourceExhausted, {
      "retry-after": String(error.retryAfterSeconds),
    });
  }
  if (error instanceof DependencyUnavailableError) {
    return new ConnectError(error.message, Code.Unavailable, undefined, undefined, error);
  }
  if (error instanceof OutcomeUnknownError) {
    return new ConnectError(
      error.message,
      error.reason === "timeout" ? Code.DeadlineExceeded : Code.Unknown,
      undefined,
      undefined,
      error,
    );
  }
  return databaseErrorToConnect(error);
}

/** A PostgreSQL or connection error that reached the edge unwrapped (lib/db/pg_errors.ts). */
function databaseErrorToConnect(error: unknown): ConnectError | undefined {
  if (isUniqueViolation(error)) return new ConnectError("that already exists", Code.AlreadyExists);
  // Data exceptions (a NUL byte in text, a date out of range, a number too big) and limits
  // (a value too large to index): the input was bad, and the statement wrote nothing.
  if (isBadData(error)) {
    return new ConnectError(
      "a value in the request is malformed or out of range",
      Code.InvalidArgument,
    );
  }
  // Serialization failure or deadlock: PostgreSQL aborted one of two conflicting
  // transactions; nothing was written, and the same call may succeed when retried.
  if (isConflict(error)) {
    return new ConnectError(
      "the call conflicted with another change and was not applied; retry it",
      Code.Aborted,
    );
  }
  if (isQueryCanceled(error)) {
    return new ConnectError(
      "the database took too long",
      Code.DeadlineExceeded,
    );
  }
  // Refused before anything was done (no connection, a read-only server, disk full): safe to
  // retry. A connection lost under a statement is not: its outcome is unknown.
  if (refusesWork(error)) {
    return new ConnectError("database is unavailable; try again shortly", Code.Unavailable);
  }
  if (isConnectionLost(error)) {
    return new ConnectError(
      "the connection to a dependency was lost during the call: its outcome is unknown; " +
        "retry with the same idempotency key, or check before retrying",
      Code.Unknown,
    );
  }
  return undefined;
}

// The Connect type toConnectError returns, so that it is nameable from here.
export type { ConnectError } from "@connectrpc/connect";
