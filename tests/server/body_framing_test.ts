/**
 * Request bodies that break or do not come (issue 21), over raw TCP against a real User Service:
 * chunked framing that breaks after valid data is the client's mistake (`invalid_argument`, 400,
 * logged), and a call refused for its body (too late, too large) is answered with
 * `Connection: close` at once.
 *
 * Not proven here, because it does not hold: Deno.serve (2.9) keeps the socket of a request whose
 * body never finishes open after the answer, whatever the answer says, until the client sends the
 * rest or leaves; the edge proxy's client_body_timeout closes it (docs/operations.md).
 */
import assert from "node:assert/strict";
import { TokenService } from "@platform/lib/auth";
import { PostgresServer } from "../harness/postgres_server.ts";
import { RedisServer } from "../harness/redis_server.ts";
import { ServiceProcess } from "../harness/service_process.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const SECRET = "body-framing-secret-0123456789-abcdefgh";
const [pg, redis] = await Promise.all([PostgresServer.start(), RedisServer.start()]);
const users = await ServiceProcess.start("users", {
  DATABASE_URL: await pg.createDatabase("freelance_platform"),
  REDIS_URL: redis.url,
  JWT_SECRETS: SECRET,
  REQUEST_BODY_TIMEOUT_MS: "800",
  MAX_MESSAGE_BYTES: "4096",
});
const developer = await new TokenService([SECRET], 3600).issue({
  subject: crypto.randomUUID(),
  role: "developer",
});
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Sends `request` on a new connection; returns what came back and whether the server closed. */
async function exchange(
  request: string | string[],
  waitMs = 3000,
): Promise<{ response: string; closedByServer: boolean }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: users.port });
  const parts = typeof request === "string" ? [request] : request;
  for (const [i, part] of parts.entries()) {
    if (i > 0) await new Promise((r) => setTimeout(r, 150));
    await conn.write(encoder.encode(part));
  }
  const buffer = new Uint8Array(65536);
  let response = "";
  let closedByServer = false;
  const deadline = setTimeout(() => conn.close(), waitMs);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) {
        closedByServer = true;
        break;
      }
      response += decoder.decode(buffer.subarray(0, n));
    }
  } catch {
    // closed by the timer: the server kept the connection open
  } finally {
    clearTimeout(deadline);
    try {
      conn.close();
    } catch { /* already closed */ }
  }
  return { response, closedByServer };
}

function head(path: string, extra: string): string {
  return `POST /${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
    `authorization: Bearer ${developer.token}\r\n${extra}\r\n`;
}

for (
  const [name, path] of [
    ["unary (Login)", "platform.users.v1.UserService/Login"],
    ["unary with a token (GetUser)", "platform.users.v1.UserService/GetUser"],
  ] as const
) {
  Deno.test(
    `chunked framing that breaks after valid data: invalid_argument, logged: ${name}`,
    opts,
    async () => {
      const before = users.logs().length;
      // The framing breaks once the call has started reading valid data (sent in two writes, as a
      // client whose encoder fails mid-body would).
      const { response, closedByServer } = await exchange([
        head(path, "transfer-encoding: chunked\r\n") + `5\r\n{"ema\r\n`,
        `ZZ-not-hex\r\n\r\n`,
      ]);
      assert.ok(closedByServer);
      assert.match(response, /^HTTP\/1\.1 400 /, response);
      assert.match(response, /"code":"invalid_argument"/);
      await new Promise((r) => setTimeout(r, 200));
      const lines = users.logs().slice(before);
      assert.ok(
        lines.some((l) => l.level === "warn" && /request body/.test(String(l.msg))),
        JSON.stringify(lines),
      );
      assert.deepEqual(lines.filter((l) => l.level === "error"), []);
    },
  );
}

Deno.test("a body past REQUEST_BODY_TIMEOUT_MS: 504 with Connection: close", opts, async () => {
  const started = performance.now();
  const { response } = await exchange(
    head("platform.users.v1.UserService/GetUser", "content-length: 100\r\n") + `{"us`,
    1500,
  );
  assert.match(response, /^HTTP\/1\.1 504 /, response);
  assert.match(response, /connection: close/i);
  assert.match(response, /"code":"deadline_exceeded"/);
  assert.ok(performance.now() - started < 2500);
});

Deno.test("a slow chunked body past the deadline: 504 with Connection: close", opts, async () => {
  const { response } = await exchange(
    head("platform.users.v1.UserService/GetUser", "transfer-encoding: chunked\r\n") +
      `3\r\n{"u\r\n`,
    1500,
  );
  assert.match(response, /^HTTP\/1\.1 504 /, response);
  assert.match(response, /connection: close/i);
});

Deno.test(
  "a body larger than MAX_MESSAGE_BYTES: refused with Connection: close",
  opts,
  async () => {
    const { response } = await exchange(
      head("platform.users.v1.UserService/GetUser", "content-length: 100000\r\n") + "{",
      1500,
    );
    assert.match(response, /^HTTP\/1\.1 429 /, response);
    assert.match(response, /resource_exhausted/);
    assert.match(response, /connection: close/i);
  },
);

Deno.test("stop the service", opts, async () => {
  await users.stop();
  await redis.stop();
  await pg.destroy();
});
