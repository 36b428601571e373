import assert from "node:assert/strict";
import { userHandle } from "./user_handle.ts";

Deno.test("a handle is the id's first eight hex digits, lower case, and stable", () => {
  const id = "3F9A1C2E-1111-4000-8000-000000000000";
  assert.equal(userHandle(id), "@3f9a1c2e");
  assert.equal(userHandle(id.toLowerCase()), userHandle(id));
  assert.notEqual(
    userHandle(crypto.randomUUID()),
    userHandle("00000000-1111-4000-8000-0000000000"),
  );
});
