/**
 * Regression tests for the protocol defects an adversarial run found (issue 15), against a real
 * User Service and Task Service: envelope flags, compression, a lone surrogate in gRPC-web JSON,
 * unknown enum names, gRPC-web-text, a streaming method called as unary, client-aborted uploads
 * and slow bodies. Each failed before its fix.
 */
import assert from "node:assert/strict";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { Code } from "@connectrpc/connect";
import { TokenService } from "@platform/lib/auth";
import { NatsServer } from "../harness/nats_server.ts";
import { PostgresServer } from "../harness/postgres_server.ts";
import { RedisServer } from "../harness/redis_server.ts";
import { ServiceProcess } from "../harness/service_process.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const SECRET = "protocol-test-secret-0123456789-abcdefgh";
const gzipAsync = promisify(zlib.gzip);
const gzip = async (bytes: Uint8Array) => new Uint8Array(await gzipAsync(bytes));

const [pg, redis, nats] = await Promise.all([
  PostgresServer.start(),
  RedisServer.start(),
  NatsServer.start(),
]);
const databaseUrl = await pg.createDatabase("freelance_platform");
const common = { DATABASE_URL: databaseUrl, JWT_SECRETS: SECRET, REQUEST_BODY_TIMEOUT_MS: "800" };
const [users, tasks] = await Promise.all([
  ServiceProcess.start("users", { ...common, REDIS_URL: redis.url }),
  ServiceProcess.start("tasks", { ...common, NATS_URL: nats.url }),
]);
const tokens = new TokenService([SECRET], 3600);
const developer = await tokens.issue({ subject: crypto.randomUUID(), role: "developer" });
const client = await tokens.issue({ subject: crypto.randomUUID(), role: "client" });
const GET_USER = "platform.users.v1.UserService/GetUser";
const SEARCH = "platform.users.v1.UserService/SearchDevelopers";

function envelope(flags: number, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(5 + payload.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

/** The gRPC status of a gRPC-web response: from the headers, or from its trailer frame. */
async function grpcStatus(res: Response): Promise<{ code: number; message: string }> {
  const body = new Uint8Array(await res.arrayBuffer());
  let status = res.headers.get("grpc-status");
  let message = res.headers.get("grpc-message") ?? "";
  for (let offset = 0; offset + 5 <= body.length;) {
    const length = new DataView(body.buffer, body.byteOffset + offset).getUint32(1);
    if (body[offset] & 0x80) {
      const text = new TextDecoder().decode(body.subarray(offset + 5, offset + 5 + length));
      status = /grpc-status: *(\d+)/.exec(text)?.[1] ?? status;
      message = /grpc-message: *([^\r\n]*)/.exec(text)?.[1] ?? message;
    }
    offset += 5 + length;
  }
  assert.notEqual(status, null, `no grpc-status (HTTP ${res.status})`);
  return { code: Number(status), message: decodeURIComponent(message) };
}

function post(
  url: string,
  procedure: string,
  body: BodyInit,
  headers: Record<string, string>,
): Promise<Response> {
  return fetch(`${url}/${procedure}`, { method: "POST", headers, body });
}

const grpcWebProto = {
  "content-type": "application/grpc-web+proto",
  authorization: `Bearer ${developer.token}`,
};

Deno.test(
  "an envelope with the compressed flag and no encoding is invalid_argument",
  opts,
  async () => {
    for (const flags of [0x01, 0xff, 0x80, 0x02]) {
      const res = await post(users.url, GET_USER, envelope(flags, new Uint8Array()), grpcWebProto);
      const { code, message } = await grpcStatus(res);
      assert.equal(Code[code], "InvalidArgument", `flags 0x${flags.toString(16)}: ${message}`);
      assert.match(message, /envelope flags/);
    }
    // A streaming method reads its request from an envelope too.
    const stream = await post(
      users.url,
      "platform.users.v1.UserService/ListOnlineDevelopers",
      envelope(0x01, new TextEncoder().encode("{}")),
      { "content-type": "application/connect+json", authorization: `Bearer ${developer.token}` },
    );
    const end = new TextDecoder().decode(new Uint8Array(await stream.arrayBuffer()).subarray(5));
    assert.match(end, /"code":"invalid_argument"/);
  },
);

Deno.test(
  "gzip is supported in both protocols; an unknown encoding names the supported one",
  opts,
  async () => {
    const body = new TextEncoder().encode(JSON.stringify({ skill_tags: ["go"] }));
    const connect = await post(users.url, SEARCH, await gzip(body), {
      "content-type": "application/json",
      "content-encoding": "gzip",
      authorization: `Bearer ${developer.token}`,
    });
    assert.equal(connect.status, 200, await connect.clone().text());
    assert.deepEqual(await connect.json(), {});
    const grpcWeb = await post(users.url, SEARCH, envelope(0x01, await gzip(body)), {
      "content-type": "application/grpc-web+json",
      "grpc-encoding": "gzip",
      authorization: `Bearer ${developer.token}`,
    });
    assert.equal((await grpcStatus(grpcWeb)).code, 0);
    const brotli = await post(users.url, SEARCH, body, {
      "content-type": "application/json",
      "content-encoding": "br",
      authorization: `Bearer ${developer.token}`,
    });
    assert.equal(brotli.status, 501);
    assert.equal(brotli.headers.get("accept-encoding"), "gzip");
    assert.equal((await brotli.json()).code, "unimplemented");
    // A large answer is compressed for a client that accepts gzip.
    const big = await post(users.url, SEARCH, "{}", {
      "content-type": "application/json",
      "accept-encoding": "gzip",
      authorization: `Bearer ${developer.token}`,
    });
    await big.arrayBuffer();
    assert.equal(big.status, 200);
    // (too small to compress: nothing registered yet; the differential test covers large ones)
    const bomb = await post(users.url, SEARCH, await gzip(new Uint8Array(8 << 20)), {
      "content-type": "application/json",
      "content-encoding": "gzip",
      authorization: `Bearer ${developer.token}`,
    });
    assert.equal((await bomb.json()).code, "resource_exhausted");
  },
);

Deno.test(
  "a lone surrogate in gRPC-web JSON is invalid_argument, not a bare HTTP 500",
  opts,
  async () => {
    const res = await post(
      users.url,
      SEARCH,
      envelope(0, new TextEncoder().encode('{"page_size":"\\ud800"}')),
      { "content-type": "application/grpc-web+json", authorization: `Bearer ${developer.token}` },
    );
    assert.equal(res.status, 200);
    const { code, message } = await grpcStatus(res);
    assert.equal(Code[code], "InvalidArgument", message);
    assert.match(message, /surrogate/);
  },
);

Deno.test("an unknown enum name is invalid_argument, as an unknown number is", opts, async () => {
  for (const status of ['"TASK_STATUS_BOGUS"', "99"]) {
    const res = await post(
      tasks.url,
      "platform.tasks.v1.TaskService/ListTasks",
      `{"status":${status}}`,
      { "content-type": "application/json", authorization: `Bearer ${client.token}` },
    );
    const body = await res.json();
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(body.code, "invalid_argument", JSON.stringify(body));
    assert.match(body.message, /status/);
  }
  const search = await post(users.url, SEARCH, '{"match":"SKILL_MATCH_SOMETIMES"}', {
    "content-type": "application/json",
    authorization: `Bearer ${developer.token}`,
  });
  assert.equal((await search.json()).code, "invalid_argument");
});

Deno.test("gRPC-web-text gets a status that says what to send instead", opts, async () => {
  const res = await post(users.url, GET_USER, btoa("\0\0\0\0\0"), {
    "content-type": "application/grpc-web-text",
    authorization: `Bearer ${developer.token}`,
  });
  const { code, message } = await grpcStatus(res);
  assert.equal(Code[code], "Unimplemented");
  assert.match(message, /application\/grpc-web\+proto/);
});

Deno.test("a streaming method called with application/json is told to stream", opts, async () => {
  const res = await post(users.url, "platform.users.v1.UserService/ListOnlineDevelopers", "{}", {
    "content-type": "application/json",
    authorization: `Bearer ${developer.token}`,
  });
  const body = await res.json();
  assert.equal(res.status, 415);
  assert.match(body.message, /server-streaming/);
  assert.match(body.message, /application\/connect\+json/);
  assert.doesNotMatch(body.message, /send application\/json/);
});

Deno.test("a client that aborts its upload is not an error in the logs", opts, async () => {
  const before = users.logs().length;
  for (let i = 0; i < 5; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: users.port });
    await conn.write(new TextEncoder().encode(
      `POST /${GET_USER} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
        `authorization: Bearer ${developer.token}\r\ncontent-length: 1000\r\n\r\n{"user_id":`,
    ));
    await new Promise((r) => setTimeout(r, 50));
    conn.close();
  }
  await new Promise((r) => setTimeout(r, 300));
  const errors = users.logs().slice(before).filter((line) => line.level === "error");
  assert.deepEqual(errors, []);
  const metrics = await fetch(`${users.url}/metrics`).then((r) => r.text());
  assert.match(metrics, /grpc_method="GetUser",grpc_code="Canceled"\} 5/);
});

Deno.test("a body that does not arrive in time ends the call", opts, async () => {
  // Deno.serve keeps the connection itself until the client finishes or leaves (it cannot be
  // closed from the handler; the edge proxy bounds it), but the call ends, answered.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: users.port });
  const started = performance.now();
  await conn.write(new TextEncoder().encode(
    `POST /${GET_USER} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
      `authorization: Bearer ${developer.token}\r\ncontent-length: 100\r\n\r\n{"us`,
  ));
  const buffer = new Uint8Array(4096);
  let response = "";
  while (!/\r\n\r\n[\s\S]*\}/.test(response)) {
    const n = await conn.read(buffer);
    if (n === null) break;
    response += new TextDecoder().decode(buffer.subarray(0, n));
  }
  const elapsed = performance.now() - started;
  conn.close();
  assert.match(response, /^HTTP\/1.1 504/);
  assert.match(response, /"code":"deadline_exceeded"/);
  assert.ok(elapsed > 700 && elapsed < 3000, `answered after ${elapsed} ms`);
  const metrics = await fetch(`${users.url}/metrics`).then((r) => r.text());
  assert.match(metrics, /grpc_method="GetUser",grpc_code="DeadlineExceeded"\} 1/);
});

Deno.test("stop the services", opts, async () => {
  await Promise.all([users.stop(), tasks.stop()]);
  await Promise.all([redis.stop(), nats.destroy()]);
  await pg.destroy();
});
