import assert from "node:assert/strict";
import { redact } from "./logger.ts";

Deno.test("secret-looking keys are redacted at any depth", () => {
  const out = redact({
    user_id: "u1",
    password: "hunter2",
    nested: { access_token: "abc", authorization: "Bearer x", ok: 1 },
    list: [{ jwtSecret: "s" }],
  });
  assert.equal(out.user_id, "u1");
  assert.equal(out.password, "[redacted]");
  assert.deepEqual(out.nested, { access_token: "[redacted]", authorization: "[redacted]", ok: 1 });
  assert.deepEqual(out.list, [{ jwtSecret: "[redacted]" }]);
});

Deno.test("errors become name and message", () => {
  assert.deepEqual(redact({ error: new TypeError("boom") }).error, {
    name: "TypeError",
    message: "boom",
  });
});
