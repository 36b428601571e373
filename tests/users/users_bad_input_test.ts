/**
 * Bad input against the User Service: each gets the right Connect code and a message a client
 * can act on, nothing is written, none is `internal`, and the service stays up.
 */
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { SignJWT } from "jose";
import postgres from "postgres";
import { Role, UserService } from "@platform/proto/users/v1";
import { postJson, rpcClient } from "../harness/rpc_clients.ts";
import { signUp, startUsersEnv, TEST_SECRET } from "./users_env.ts";

const env = await startUsersEnv();
const url = env.users.url;
const sql = postgres(env.databaseUrl, { max: 1 });
const opts = { sanitizeOps: false, sanitizeResources: false };
const REGISTER = "platform.users.v1.UserService/Register";

async function userCount(): Promise<number> {
  const [{ n }] = await sql`SELECT count(*)::int AS n FROM users`;
  return n;
}

async function expectCode(call: Promise<unknown>, code: Code, message?: RegExp) {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof ConnectError, `not a ConnectError: ${error}`);
    assert.equal(Code[error.code], Code[code], error.message);
    if (message) assert.match(error.rawMessage, message);
    return true;
  });
}

Deno.test("registration input errors name the field and write nothing", opts, async () => {
  const anonymous = rpcClient(UserService, url);
  const before = await userCount();
  const base = { email: "ok@example.com", password: "long enough pass", role: Role.DEVELOPER };
  await expectCode(
    anonymous.register({ ...base, email: "not-an-email" }),
    Code.InvalidArgument,
    /^email/,
  );
  await expectCode(
    anonymous.register({ ...base, password: "short" }),
    Code.InvalidArgument,
    /^password/,
  );
  await expectCode(
    anonymous.register({ ...base, role: Role.ADMIN }),
    Code.InvalidArgument,
    /^role/,
  );
  await expectCode(
    anonymous.register({ ...base, role: Role.UNSPECIFIED }),
    Code.InvalidArgument,
    /^role/,
  );
  await expectCode(
    anonymous.register({ ...base, displayName: "x".repeat(101) }),
    Code.InvalidArgument,
    /^display_name/,
  );
  assert.equal(await userCount(), before);
});

Deno.test(
  "a duplicate registration is already_exists, whatever the email's case",
  opts,
  async () => {
    const dev = await signUp(url, "developer");
    const before = await userCount();
    await expectCode(
      rpcClient(UserService, url).register({
        email: dev.email.toUpperCase(),
        password: "another long password",
        role: Role.CLIENT,
      }),
      Code.AlreadyExists,
    );
    assert.equal(await userCount(), before);
  },
);

Deno.test(
  "a wrong password or unknown email is unauthenticated with one message",
  opts,
  async () => {
    const dev = await signUp(url, "developer");
    const anonymous = rpcClient(UserService, url);
    await expectCode(
      anonymous.login({ email: dev.email, password: "wrong password!" }),
      Code.Unauthenticated,
      /wrong email or password/,
    );
    await expectCode(
      anonymous.login({ email: "nobody@example.com", password: "whatever123" }),
      Code.Unauthenticated,
      /wrong email or password/,
    );
  },
);

Deno.test(
  "missing, malformed, forged, wrong-secret and expired tokens are refused",
  opts,
  async () => {
    const dev = await signUp(url, "developer");
    const call = (token?: string) =>
      rpcClient(UserService, url, undefined, token).getUser({ userId: dev.id });
    await expectCode(call(), Code.Unauthenticated, /needs a token/);
    await expectCode(call("garbage"), Code.Unauthenticated);
    const [h, p] = dev.token.split(".");
    const payload = JSON.parse(atob(p.replaceAll("-", "+").replaceAll("_", "/")));
    const forgedPayload = btoa(JSON.stringify({ ...payload, role: "admin" })).replaceAll("=", "")
      .replaceAll("+", "-").replaceAll("/", "_");
    await expectCode(
      call(`${h}.${forgedPayload}.${dev.token.split(".")[2]}`),
      Code.Unauthenticated,
      /signature/,
    );
    const sign = (secret: string, exp: number) =>
      new SignJWT({ role: "developer" }).setProtectedHeader({ alg: "HS256" }).setSubject(dev.id)
        .setIssuer("freelance-platform").setAudience("freelance-platform").setIssuedAt()
        .setExpirationTime(exp).sign(new TextEncoder().encode(secret));
    const now = Math.floor(Date.now() / 1000);
    await expectCode(
      call(await sign("another-secret-that-is-also-long-enough!", now + 60)),
      Code.Unauthenticated,
    );
    await expectCode(call(await sign(TEST_SECRET, now - 10)), Code.Unauthenticated, /expired/);
    // The real token still works.
    assert.equal((await call(dev.token)).user?.id, dev.id);
  },
);

Deno.test("another user's profile cannot be changed", opts, async () => {
  const alice = await signUp(url, "developer");
  const bob = await signUp(url, "developer");
  await expectCode(
    bob.client.updateProfile({ userId: alice.id, displayName: "pwned" }),
    Code.PermissionDenied,
  );
  const [{ display_name }] = await sql`SELECT display_name FROM users WHERE id = ${alice.id}`;
  assert.notEqual(display_name, "pwned");
});

Deno.test(
  "absurd skill lists and ids are invalid_argument; unknown users not_found",
  opts,
  async () => {
    const dev = await signUp(url, "developer");
    await expectCode(
      dev.client.updateProfile({
        skillTags: { tags: Array.from({ length: 500 }, (_, i) => `s${i}`) },
      }),
      Code.InvalidArgument,
      /^skill_tags/,
    );
    await expectCode(
      dev.client.updateProfile({ skillTags: { tags: ["x".repeat(41)] } }),
      Code.InvalidArgument,
      /^skill_tags/,
    );
    await expectCode(
      dev.client.updateProfile({ skillTags: { tags: ["<script>"] } }),
      Code.InvalidArgument,
      /^skill_tags/,
    );
    await expectCode(
      dev.client.updateProfile({ hourlyRate: { currency: "XYZ", amountMinor: 1n } }),
      Code.InvalidArgument,
      /currency/,
    );
    await expectCode(
      dev.client.updateProfile({ hourlyRate: { currency: "USD", amountMinor: -1n } }),
      Code.InvalidArgument,
      /amount_minor/,
    );
    await expectCode(
      dev.client.getUser({ userId: "1; DROP TABLE users" }),
      Code.InvalidArgument,
      /^user_id/,
    );
    await expectCode(dev.client.getUser({ userId: crypto.randomUUID() }), Code.NotFound);
    await expectCode(
      dev.client.searchDevelopers({ pageToken: "bogus" }),
      Code.InvalidArgument,
      /^page_token/,
    );
    await expectCode(
      dev.client.searchDevelopers({ pageSize: 1000 }),
      Code.InvalidArgument,
      /^page_size/,
    );
    const [{ skill_tags }] = await sql`SELECT skill_tags FROM users WHERE id = ${dev.id}`;
    assert.deepEqual(skill_tags, []);
  },
);

Deno.test("a client cannot go online", opts, async () => {
  const client = await signUp(url, "client");
  await expectCode(client.client.goOnline({}), Code.PermissionDenied, /developer/);
});

Deno.test(
  "malformed bodies, wrong content types, unknown methods, oversize bodies",
  opts,
  async () => {
    const before = await userCount();
    const bad = await postJson(url, REGISTER, "{not json");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, "invalid_argument");
    const wrongType = await postJson(url, REGISTER, { email: 1 });
    assert.equal(wrongType.body.code, "invalid_argument");
    const proto = await fetch(`${url}/${REGISTER}`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: new Uint8Array([0x0a, 0xff, 0xff, 0xff]),
    });
    assert.equal((await proto.json()).code, "invalid_argument");
    const text = await fetch(`${url}/${REGISTER}`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "hello",
    });
    assert.equal(text.status, 415);
    assert.equal((await text.json()).code, "invalid_argument");
    const unknown = await postJson(url, "platform.users.v1.UserService/DeleteEverything", {});
    assert.equal(unknown.body.code, "unimplemented");
    assert.match(String(unknown.body.message), /platform\.users\.v1\.UserService/);
    const huge = await postJson(url, REGISTER, {
      email: "big@example.com",
      password: "x".repeat(5 * 1024 * 1024),
      role: "ROLE_CLIENT",
    });
    assert.equal(huge.body.code, "resource_exhausted");
    const grpc = await fetch(`${url}/${REGISTER}`, {
      method: "POST",
      headers: { "content-type": "application/grpc" },
      body: new Uint8Array(5),
    });
    assert.equal(grpc.headers.get("grpc-status"), String(Code.Unimplemented));
    assert.match(decodeURIComponent(grpc.headers.get("grpc-message") ?? ""), /gRPC-web/);
    await grpc.body?.cancel();
    assert.equal(await userCount(), before);
    assert.equal((await fetch(`${url}/livez`).then((r) => r.json())).status, "alive");
  },
);

Deno.test("tokens and passwords never reach the logs", opts, async () => {
  const dev = await signUp(url, "developer");
  const logs = env.users.process.lines.join("\n");
  assert.ok(!logs.includes(dev.token));
  assert.ok(!logs.includes(dev.password));
  assert.ok(!logs.includes(TEST_SECRET));
});

globalThis.addEventListener("unload", () => void sql.end());

Deno.test(
  "NUL bytes and control characters are invalid_argument, never internal",
  opts,
  async () => {
    const anonymous = rpcClient(UserService, url);
    await expectCode(
      anonymous.register({
        email: "a\u0000b@example.com",
        password: "long enough",
        role: Role.CLIENT,
      }),
      Code.InvalidArgument,
    );
    await expectCode(
      anonymous.login({ email: "a\u0000b@example.com", password: "x" }),
      Code.InvalidArgument,
    );
    const dev = await signUp(url, "developer");
    await expectCode(
      dev.client.updateProfile({ bio: "nul\u0000here" }),
      Code.InvalidArgument,
      /^bio/,
    );
    assert.equal(
      (await dev.client.updateProfile({ bio: "two\r\nlines\tand a tab" })).user?.bio,
      "two\r\nlines\tand a tab",
    );
  },
);

Deno.test(
  "malformed protobuf over gRPC-web and to a streaming method is invalid_argument",
  opts,
  async () => {
    const dev = await signUp(url, "developer");
    const garbage = new Uint8Array([0, 0, 0, 0, 3, 0x0a, 0xff, 0xff]);
    const grpcWeb = await fetch(`${url}/platform.users.v1.UserService/GetUser`, {
      method: "POST",
      headers: {
        "content-type": "application/grpc-web+proto",
        authorization: `Bearer ${dev.token}`,
      },
      body: garbage,
    });
    const body = new Uint8Array(await grpcWeb.arrayBuffer());
    const trailer = new TextDecoder().decode(body.subarray(5));
    assert.match(
      grpcWeb.headers.get("grpc-status") ?? trailer,
      new RegExp(`(^|grpc-status: )${Code.InvalidArgument}\\b`),
    );
    const stream = await fetch(`${url}/platform.users.v1.UserService/ListOnlineDevelopers`, {
      method: "POST",
      headers: {
        "content-type": "application/connect+proto",
        authorization: `Bearer ${dev.token}`,
      },
      body: garbage,
    });
    const end = new TextDecoder().decode(new Uint8Array(await stream.arrayBuffer()).subarray(5));
    assert.match(end, /"code":"invalid_argument"/);
  },
);

Deno.test("a service token cannot touch presence", opts, async () => {
  const { TokenService } = await import("../../lib/auth/tokens.ts");
  const { token } = await new TokenService([TEST_SECRET], 60).issueServiceToken("orchestrator");
  const service = rpcClient(UserService, url, undefined, token);
  await expectCode(service.goOffline({}), Code.PermissionDenied);
  await expectCode(service.goOnline({}), Code.PermissionDenied);
});

Deno.test("no bad input was answered internal, and errors are counted by code", opts, async () => {
  const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
  assert.ok(!/grpc_code="Internal"/.test(metrics), "an error was answered as internal");
  assert.match(
    metrics,
    /grpc_server_handled_total\{[^}]*grpc_method="Register"[^}]*grpc_code="InvalidArgument"\} [1-9]/,
  );
  assert.match(
    metrics,
    /grpc_server_handled_total\{[^}]*grpc_method="GetUser"[^}]*grpc_code="Unauthenticated"\} [1-9]/,
  );
  assert.match(
    metrics,
    /grpc_server_handled_total\{[^}]*grpc_method="Register"[^}]*grpc_code="ResourceExhausted"\} [1-9]/,
  );
});
