/**
 * GetPublicProfile: what a client reads before hiring, for any signed-in user; two developers with
 * one display name told apart by their handles; bad input answers its code and the service stays up.
 */
import assert from "node:assert/strict";
import { Code, type ConnectError } from "@connectrpc/connect";
import { Role, UserService } from "@platform/proto/users/v1";
import { FLAVOURS, rpcClient } from "../harness/rpc_clients.ts";
import { signUp, startUsersEnv } from "./users_env.ts";

const env = await startUsersEnv();
const url = env.users.url;
const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("a public profile tells two developers of one name apart", opts, async () => {
  const [ada1, ada2, client, otherDev] = await Promise.all([
    signUp(url, "developer"),
    signUp(url, "developer"),
    signUp(url, "client"),
    signUp(url, "developer"),
  ]);
  for (const [dev, rate] of [[ada1, 9000n], [ada2, 12000n]] as const) {
    await dev.client.updateProfile({
      displayName: "Ada",
      bio: "Backends in Go",
      skillTags: { tags: ["Go", "PostgreSQL"] },
      hourlyRate: { currency: "USD", amountMinor: rate },
    });
  }
  for (const flavour of FLAVOURS) {
    const asClient = rpcClient(UserService, url, flavour, client.token);
    const [one, two] = await Promise.all([
      asClient.getPublicProfile({ userId: ada1.id }),
      asClient.getPublicProfile({ userId: ada2.id }),
    ]);
    assert.equal(one.profile?.displayName, "Ada");
    assert.equal(two.profile?.displayName, "Ada");
    assert.equal(one.profile?.handle, `@${ada1.id.replaceAll("-", "").slice(0, 8)}`);
    assert.notEqual(one.profile?.handle, two.profile?.handle);
    assert.equal(one.profile?.userId, ada1.id);
    assert.equal(one.profile?.role, Role.DEVELOPER);
    assert.equal(one.profile?.bio, "Backends in Go");
    assert.deepEqual(one.profile?.skillTags, ["go", "postgresql"]);
    assert.equal(one.profile?.hourlyRate?.amountMinor, 9000n);
    assert.equal(two.profile?.hourlyRate?.amountMinor, 12000n);
    const since = one.profile?.memberSince;
    assert.ok(since && Math.abs(Number(since.seconds) * 1000 - Date.now()) < 120_000);
  }
  // Any signed-in user reads it: a developer reads another's, a developer their client's.
  const byDev = await otherDev.client.getPublicProfile({ userId: ada1.id });
  assert.equal(byDev.profile?.handle, `@${ada1.id.slice(0, 8)}`);
  const clientProfile = await ada1.client.getPublicProfile({ userId: client.id });
  assert.equal(clientProfile.profile?.role, Role.CLIENT);
  assert.equal(clientProfile.profile?.hourlyRate, undefined);
  // A change shows at once (the profile cache is invalidated by UpdateProfile).
  await ada1.client.updateProfile({ bio: "Now Rust too" });
  assert.equal(
    (await client.client.getPublicProfile({ userId: ada1.id })).profile?.bio,
    "Now Rust too",
  );
});

Deno.test("a public profile never shows the email; bad input answers its code", opts, async () => {
  const [dev, client] = await Promise.all([signUp(url, "developer"), signUp(url, "client")]);
  const res = await fetch(`${url}/platform.users.v1.UserService/GetPublicProfile`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${client.token}` },
    body: JSON.stringify({ user_id: dev.id }),
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.ok(!text.includes(dev.email), text);
  assert.ok(!/email|online|lastSeen/i.test(text), text);
  const refused = async (call: Promise<unknown>, code: Code, pattern: RegExp) =>
    await assert.rejects(call, (e: ConnectError) => {
      assert.equal(e.code, code, e.message);
      assert.match(e.message, pattern);
      return true;
    });
  await refused(
    rpcClient(UserService, url).getPublicProfile({ userId: dev.id }),
    Code.Unauthenticated,
    /./,
  );
  await refused(client.client.getPublicProfile({ userId: "" }), Code.InvalidArgument, /user_id/);
  await refused(
    client.client.getPublicProfile({ userId: "1; DROP TABLE users" }),
    Code.InvalidArgument,
    /user_id/,
  );
  await refused(
    client.client.getPublicProfile({ userId: crypto.randomUUID() }),
    Code.NotFound,
    /user/,
  );
  // Still up.
  assert.equal((await client.client.getPublicProfile({ userId: dev.id })).profile?.userId, dev.id);
});

Deno.test("stop the stack", opts, async () => {
  await env.stop();
});
