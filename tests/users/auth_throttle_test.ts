/**
 * Login and registration limits, black-box: a real User Service with its own PostgreSQL and
 * Redis, small limits, and client addresses named through `X-Forwarded-For` from a trusted proxy
 * (the test itself, 127.0.0.1).
 */
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { UserService } from "@platform/proto/users/v1";
import { rpcClient } from "../harness/rpc_clients.ts";
import { signUp, startUsersEnv } from "./users_env.ts";

const env = await startUsersEnv({
  LOGIN_ACCOUNT_MAX_FAILURES: "4",
  LOGIN_ADDRESS_MAX_FAILURES: "6",
  REGISTER_ADDRESS_MAX_ATTEMPTS: "10",
  TRUSTED_PROXIES: "127.0.0.1,::1",
});
const url = env.users.url;
const opts = { sanitizeOps: false, sanitizeResources: false };
let addressCounter = 0;
/** A client address of its own for each test, so the tests do not share address windows. */
const newAddress = () => `203.0.113.${++addressCounter}`;

async function call(procedure: string, body: unknown, address: string) {
  const res = await fetch(`${url}/platform.users.v1.UserService/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": address },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: json };
}
const login = (email: string, password: string, address: string) =>
  call("Login", { email, password }, address);

async function failTimes(n: number, email: string, address: string) {
  for (let i = 0; i < n; i++) {
    const res = await login(email, "wrong password 123", address);
    assert.equal(res.body.code, "unauthenticated", JSON.stringify(res.body));
  }
}

Deno.test(
  "an account takes LOGIN_ACCOUNT_MAX_FAILURES wrong passwords, then resource_exhausted with retry-after",
  opts,
  async () => {
    const victim = await signUp(url, "developer");
    await failTimes(4, victim.email, newAddress());
    // From another address, even with the right password: the account's window is used up.
    const refused = await login(victim.email, victim.password, newAddress());
    assert.equal(refused.status, 429);
    assert.equal(refused.body.code, "resource_exhausted");
    const seconds = Number(refused.retryAfter);
    assert.ok(seconds >= 3500 && seconds <= 3600, `retry-after ${refused.retryAfter}`);
    assert.match(refused.body.message, new RegExp(`try again in ${seconds} s`));
  },
);

Deno.test("an unknown email is answered exactly as an existing one", opts, async () => {
  const unknown = `nobody-${crypto.randomUUID()}@example.com`;
  const known = await signUp(url, "client");
  const answers = [];
  for (const email of [unknown, known.email]) {
    const address = newAddress();
    const before = await login(email, "wrong password 123", address);
    await failTimes(3, email, address);
    const after = await login(email, "wrong password 123", newAddress());
    answers.push({ before: before.body, after: { ...after.body, message: undefined } });
  }
  assert.deepEqual(answers[0], answers[1]);
  assert.equal(answers[0].after.code, "resource_exhausted");
});

Deno.test("a throttled account leaves other users' logins alone", opts, async () => {
  const [victim, other] = [await signUp(url, "client"), await signUp(url, "client")];
  const address = newAddress();
  await failTimes(4, victim.email, address);
  assert.equal((await login(victim.email, victim.password, address)).status, 429);
  const ok = await login(other.email, other.password, address);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.ok(ok.body.accessToken);
});

Deno.test(
  "one address takes LOGIN_ADDRESS_MAX_FAILURES failures over any accounts",
  opts,
  async () => {
    const address = newAddress();
    for (let i = 0; i < 6; i++) {
      await failTimes(
        1,
        `spray-${i}-${crypto.randomUUID()}@x.org`,
        address,
      );
    }
    const refused = await login(`spray-next@x.org`, "whatever 12345", address);
    assert.equal(refused.body.code, "resource_exhausted");
    assert.ok(Number(refused.retryAfter) > 800);
    // Another address is not affected.
    assert.equal((await login(`spray-next@x.org`, "whatever 12345", newAddress())).status, 401);
  },
);

Deno.test("a success does not reset the failures of a window", opts, async () => {
  const user = await signUp(url, "developer");
  const address = newAddress();
  await failTimes(3, user.email, address);
  assert.equal((await login(user.email, user.password, address)).status, 200);
  await failTimes(1, user.email, address);
  // 4 failures: an address the account never signed in from is refused.
  assert.equal((await login(user.email, user.password, newAddress())).status, 429);
});

Deno.test("an attacker cannot lock the owner out from where they sign in", opts, async () => {
  const owner = await signUp(url, "client");
  const home = newAddress();
  assert.equal((await login(owner.email, owner.password, home)).status, 200);
  // An attacker spends the account's failures from elsewhere.
  await failTimes(4, owner.email, newAddress());
  assert.equal((await login(owner.email, owner.password, newAddress())).status, 429);
  // The owner at home still gets in; wrong passwords from home still count against home.
  assert.equal((await login(owner.email, owner.password, home)).status, 200);
  assert.equal((await login(owner.email, "not the password", home)).status, 401);
});

Deno.test("X-Forwarded-For is not believed from an untrusted peer", opts, async () => {
  const untrusted = await startUsersEnv({ LOGIN_ADDRESS_MAX_FAILURES: "2" });
  try {
    const base = untrusted.users.url;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${base}/platform.users.v1.UserService/Login`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": `198.51.100.${i}` },
        body: JSON.stringify({ email: `x${i}@example.com`, password: "wrong password 1" }),
      });
      const body = await res.json();
      assert.equal(body.code, i < 2 ? "unauthenticated" : "resource_exhausted");
    }
  } finally {
    await untrusted.stop();
  }
});

Deno.test("registration is bounded per address", opts, async () => {
  const address = newAddress();
  const register = (i: number) =>
    call("Register", {
      email: `reg-${i}-${crypto.randomUUID().slice(0, 6)}@example.com`,
      password: "correct horse battery staple",
      role: "ROLE_CLIENT",
      displayName: `Reg ${i}`,
    }, address);
  for (let i = 0; i < 10; i++) assert.equal((await register(i)).status, 200);
  const refused = await register(10);
  assert.equal(refused.body.code, "resource_exhausted");
  assert.ok(Number(refused.retryAfter) > 3500);
});

Deno.test(
  "with Redis down the limits hold in memory; auth_throttled_total counts refusals",
  opts,
  async () => {
    await env.redis.stop();
    try {
      const address = newAddress();
      const email = `redisless-${crypto.randomUUID()}@example.com`;
      await failTimes(4, email, address);
      const refused = await login(email, "wrong password 123", address);
      assert.equal(refused.body.code, "resource_exhausted");
      const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
      assert.match(metrics, /auth_throttled_total\{reason="login_account"\} [1-9]/);
      assert.match(metrics, /auth_throttled_total\{reason="login_address"\} [1-9]/);
      assert.match(metrics, /auth_throttled_total\{reason="register_address"\} [1-9]/);
    } finally {
      await env.redis.resume();
    }
  },
);

Deno.test("over gRPC-web the refusal carries retry-after in its trailer", opts, async () => {
  // From 127.0.0.1 itself (no X-Forwarded-For): 4 failures stay under the address limit (6).
  const client = rpcClient(UserService, url, { protocol: "grpcweb", http: "1.1", binary: true });
  const email = `grpcweb-${crypto.randomUUID()}@example.com`;
  const attempt = () => client.login({ email, password: "wrong password 123" });
  for (let i = 0; i < 4; i++) {
    await assert.rejects(attempt(), (e: ConnectError) => e.code === Code.Unauthenticated);
  }
  await assert.rejects(attempt(), (e: ConnectError) => {
    assert.equal(e.code, Code.ResourceExhausted);
    const seconds = Number(e.metadata.get("retry-after"));
    assert.ok(seconds > 3500 && seconds <= 3600, `retry-after ${e.metadata.get("retry-after")}`);
    return true;
  });
});

Deno.test("stop", opts, async () => {
  await env.stop();
});
