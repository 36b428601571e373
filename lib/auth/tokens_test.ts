import assert from "node:assert/strict";
import { UnauthenticatedError } from "../errors.ts";
import { SignJWT } from "jose";
import { CLOCK_SKEW_SECONDS, TokenService } from "./tokens.ts";

const oldSecret = "old-secret-0123456789-0123456789-0123";
const newSecret = "new-secret-0123456789-0123456789-0123";

Deno.test("a token round-trips its subject and role", async () => {
  const tokens = new TokenService([newSecret], 60);
  const { token, expiresAt } = await tokens.issue({ subject: "u1", role: "client" });
  assert.deepEqual(await tokens.verify(token), {
    subject: "u1",
    role: "client",
    expiresAt: expiresAt.getTime(),
  });
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
  const { token, expiresAt } = await tokens.issueServiceToken("orchestrator");
  assert.deepEqual(await tokens.verify(token), {
    subject: "service:orchestrator",
    role: "service",
    expiresAt: expiresAt.getTime(),
  });
});

Deno.test("a token issued in the future (beyond the clock skew) is refused (issue 15)", async () => {
  const secret = new TextEncoder().encode(newSecret);
  const now = Math.floor(Date.now() / 1000);
  const sign = (iat: number) =>
    new SignJWT({ role: "developer" }).setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject("u1").setIssuer("freelance-platform").setAudience("freelance-platform")
      .setIssuedAt(iat).setExpirationTime(iat + 3600).sign(secret);
  const tokens = new TokenService([newSecret], 60);
  await assert.rejects(tokens.verify(await sign(now + 86_400)), /issued in the future/);
  await assert.rejects(
    tokens.verify(await sign(now + CLOCK_SKEW_SECONDS + 5)),
    UnauthenticatedError,
  );
  // Within the skew a slightly fast clock at the issuer is fine.
  assert.equal((await tokens.verify(await sign(now + 5))).subject, "u1");
});
