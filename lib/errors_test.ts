import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import {
  AlreadyExistsError,
  DependencyUnavailableError,
  FailedPreconditionError,
  NotFoundError,
  OutcomeUnknownError,
  PermissionDeniedError,
  toConnectError,
  UnauthenticatedError,
  ValidationError,
} from "./errors.ts";

Deno.test("domain errors map to the Connect code a caller can act on", () => {
  const cases: Array<[Error, Code]> = [
    [new ValidationError("email", "bad"), Code.InvalidArgument],
    [new NotFoundError("user", "x"), Code.NotFound],
    [new AlreadyExistsError("dup"), Code.AlreadyExists],
    [new UnauthenticatedError("who"), Code.Unauthenticated],
    [new PermissionDeniedError("no"), Code.PermissionDenied],
    [new FailedPreconditionError("state"), Code.FailedPrecondition],
    [new DependencyUnavailableError("database"), Code.Unavailable],
  ];
  for (const [error, code] of cases) assert.equal(toConnectError(error)?.code, code, error.name);
  assert.match(toConnectError(new ValidationError("email", "bad"))!.rawMessage, /^email: bad/);
});

Deno.test("PostgreSQL and network errors map; unknown errors do not", () => {
  assert.equal(toConnectError({ code: "23505" })?.code, Code.AlreadyExists);
  assert.equal(toConnectError({ code: "57014" })?.code, Code.DeadlineExceeded);
  assert.equal(toConnectError({ code: "ECONNREFUSED" })?.code, Code.Unavailable);
  assert.equal(toConnectError({ code: "22021" })?.code, Code.InvalidArgument); // NUL in text
  assert.equal(toConnectError({ code: "22008" })?.code, Code.InvalidArgument); // date overflow
  assert.equal(toConnectError({ code: "54000" })?.code, Code.InvalidArgument); // too big to index
  assert.equal(toConnectError({ code: "40P01" })?.code, Code.Aborted); // deadlock: retry
  assert.equal(toConnectError(new Error("some bug")), undefined);
});

Deno.test("unavailable only when nothing was done; a lost answer is unknown or deadline_exceeded", () => {
  // Refused before anything ran: safe to retry.
  for (const code of ["ECONNREFUSED", "CONNECT_TIMEOUT", "57P03", "53300", "25006", "53100"]) {
    assert.equal(toConnectError({ code })?.code, Code.Unavailable, code);
  }
  // The connection ended under a statement: it may have been done.
  for (const code of ["CONNECTION_CLOSED", "ECONNRESET", "57P01", "57P02", "08006"]) {
    const mapped = toConnectError({ code });
    assert.equal(mapped?.code, Code.Unknown, code);
    assert.match(mapped!.rawMessage, /outcome is unknown.*same idempotency key/);
  }
  const timedOut = toConnectError(new OutcomeUnknownError("database", "timeout"));
  assert.equal(timedOut?.code, Code.DeadlineExceeded);
  assert.match(timedOut!.rawMessage, /outcome is unknown; retry with the same idempotency key/);
  assert.equal(
    toConnectError(new OutcomeUnknownError("database", "connection lost"))?.code,
    Code.Unknown,
  );
});
