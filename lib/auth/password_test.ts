import assert from "node:assert/strict";
import { hashPassword, verifyPassword } from "./password.ts";

Deno.test("a password verifies against its hash and nothing else", async () => {
  const hash = await hashPassword("correct horse battery staple");
  assert.match(hash, /^scrypt\$16384\$8\$1\$/);
  assert.ok(!hash.includes("correct horse"));
  assert.equal(await verifyPassword("correct horse battery staple", hash), true);
  assert.equal(await verifyPassword("correct horse battery stapler", hash), false);
  assert.equal(await verifyPassword("x", "not-a-hash"), false);
});

Deno.test("the same password hashes differently each time (salted)", async () => {
  assert.notEqual(await hashPassword("same password"), await hashPassword("same password"));
});
