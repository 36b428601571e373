import assert from "node:assert/strict";
import { UnauthenticatedError } from "../errors.ts";
import { TokenService } from "./tokens.ts";

const oldSecret = "old-secret-0123456789-0123456789-0123";
const newSecret = "new-secret-0123456789-0123456789-0123";

Deno.test("a token round-trips its subject and role", async () => {
  const tokens = new TokenService([newSecret], 60);
  const { token, expiresAt } = await tokens.issue({ subject: "u1", role: "client" });
  assert.deepEqual(await tokens.verify(token), { subject: "u1", role: "client" });
  assert.ok(expiresAt.getTime() > Date.now());
});

Deno.test("rotation: tokens signed with the old secret verify after a new one is prepended", async () => {
  const before = new TokenService([oldSecret], 60);
  const { token } = await before.issue({ subject: "u1", role: "developer" });
  const during = new TokenService([newSecret, oldSecret], 60);
  assert.equal((await during.verify(token)).subject, "u1");
  const after = new TokenService([newSecret], 60);
  await assert.rejects(after.verify(token), UnauthenticatedError);
});

Deno.test("expired and garbage tokens are refused with a clear message", async () => {
  const tokens = new TokenService([newSecret], 60);
  const { token } = await tokens.issue({ subject: "u1", role: "client" }, -10);
  await assert.rejects(tokens.verify(token), /expired/);
  await assert.rejects(tokens.verify("not.a.token"), UnauthenticatedError);
});

Deno.test("service tokens carry the service role", async () => {
  const tokens = new TokenService([newSecret], 60);
  const { token } = await tokens.issueServiceToken("orchestrator");
  assert.deepEqual(await tokens.verify(token), {
    subject: "service:orchestrator",
    role: "service",
  });
});
