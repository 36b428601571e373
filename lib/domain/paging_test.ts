/** Page sizes and page tokens, the one way. No servers. */
import assert from "node:assert/strict";
import { ValidationError } from "../errors.ts";
import { decodePageToken, encodePageToken, validatePageSize } from "./paging.ts";

const field = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof ValidationError ? error.field : "not a ValidationError";
  }
  return "no error";
};

Deno.test("validatePageSize: 0 means 20, 1..100, anything else names the field", () => {
  assert.equal(validatePageSize(0), 20);
  assert.equal(validatePageSize(1), 1);
  assert.equal(validatePageSize(100), 100);
  assert.equal(field(() => validatePageSize(101)), "page_size");
  assert.equal(field(() => validatePageSize(-1)), "page_size");
  assert.equal(field(() => validatePageSize(1.5)), "page_size");
  assert.equal(field(() => validatePageSize(101, "limit")), "limit");
});

Deno.test("page tokens round-trip; garbage and refused positions name page_token", () => {
  const id = crypto.randomUUID();
  const read = (parts: unknown[]) =>
    parts.length === 2 && typeof parts[0] === "string" && parts[1] === id ? parts : undefined;
  const token = encodePageToken(["2026-01-01T00:00:00.000Z", id]);
  assert.match(token, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodePageToken(token, read), ["2026-01-01T00:00:00.000Z", id]);
  assert.equal(decodePageToken("", read), undefined);
  for (const bad of ["not-a-token!", "eyJ4IjoxfQ", encodePageToken([1, 2]), "+/+/"]) {
    assert.equal(field(() => decodePageToken(bad, read)), "page_token", bad);
  }
  const throwing = () => {
    throw new Error("no");
  };
  assert.equal(field(() => decodePageToken(token, throwing)), "page_token");
  assert.equal(field(() => decodePageToken("x!", read, "cursor")), "cursor");
});
