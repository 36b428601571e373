import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import {
  AlreadyExistsError,
  DependencyUnavailableError,
  FailedPreconditionError,
  NotFoundError,
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
