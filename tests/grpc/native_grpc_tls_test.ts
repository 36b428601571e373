/**
 * Native gRPC over TLS (h2 by ALPN) on the same port as HTTPS Connect and HTTP/1.1; and what
 * must not end the process on either kind of port: reset streams and connections torn mid-call.
 * Ends with SIGTERM while a native gRPC Watch is open: the Watch hears NOT_SERVING and ends,
 * the process exits 0.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthCheckResponseSchema,
} from "@platform/proto/grpc/health/v1";
import { ListOnlineDevelopersRequestSchema } from "@platform/proto/users/v1";
import { NatsServer } from "../harness/nats_server.ts";
import { PostgresServer } from "../harness/postgres_server.ts";
import { RedisServer } from "../harness/redis_server.ts";
import { ServiceProcess } from "../harness/service_process.ts";
import { signUp, TEST_SECRET } from "../users/users_env.ts";
import { grpcClient, serverStreamCall, unaryCall } from "./grpc_js_client.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const CHECK = "/grpc.health.v1.Health/Check";
const checkRequest = (service = "") =>
  toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service }));

const dir = await Deno.makeTempDir();
const openssl = await new Deno.Command("openssl", {
  args: [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout",
    `${dir}/key.pem`,
    "-out",
    `${dir}/cert.pem`,
  ],
  stderr: "piped",
}).output();
assert.ok(openssl.success, new TextDecoder().decode(openssl.stderr));
const ca = await Deno.readTextFile(`${dir}/cert.pem`);

const [pg, redis, nats] = await Promise.all([
  PostgresServer.start(),
  RedisServer.start(),
  NatsServer.start(),
]);
const common = {
  DATABASE_URL: await pg.createDatabase("freelance_platform"),
  REDIS_URL: redis.url,
  NATS_URL: nats.url,
  JWT_SECRETS: TEST_SECRET,
};
const [tls, plain] = await Promise.all([
  ServiceProcess.start("users", {
    ...common,
    TLS_CERT_FILE: `${dir}/cert.pem`,
    TLS_KEY_FILE: `${dir}/key.pem`,
  }),
  ServiceProcess.start("users", common),
]);

Deno.test(
  "TLS: native gRPC unary and stream, HTTPS Connect on h2 and HTTP/1.1, one port",
  opts,
  async () => {
    const developer = await signUp(plain.url, "developer");
    await developer.client.goOnline({});
    const client = grpcClient(`localhost:${tls.port}`, { ca });
    try {
      const check = await unaryCall(client, CHECK, checkRequest());
      assert.equal(check.code, 0, check.details);
      assert.equal(
        fromBinary(HealthCheckResponseSchema, check.messages[0]).status,
        ServingStatus.SERVING,
      );
      const stream = await serverStreamCall(
        client,
        "/platform.users.v1.UserService/ListOnlineDevelopers",
        toBinary(ListOnlineDevelopersRequestSchema, create(ListOnlineDevelopersRequestSchema)),
        { metadata: { authorization: `Bearer ${developer.token}` } },
      );
      assert.equal(stream.code, 0, stream.details);
      assert.equal(stream.messages.length, 1);
    } finally {
      client.close();
    }
    for (const [http2, http1] of [[true, false], [false, true]]) {
      const httpClient = Deno.createHttpClient({ caCerts: [ca], http2, http1 });
      const res = await fetch(`https://localhost:${tls.port}${CHECK}`, {
        client: httpClient,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      assert.equal((await res.json()).status, "SERVING", `http2 ${http2}`);
      httpClient.close();
    }
  },
);

/** Opens streams on raw HTTP/2 sessions and tears them down in the rudest ways. */
async function abuse(url: string, tlsCa?: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const session = http2.connect(url, tlsCa ? { ca: tlsCa } : {});
    session.on("error", () => {});
    await new Promise<void>((resolve) => session.once("connect", () => resolve()));
    const streams = Array.from({ length: 10 }, () => {
      const stream = session.request({
        ":method": "POST",
        ":path": "/grpc.health.v1.Health/Watch",
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.on("error", () => {});
      stream.write(Uint8Array.of(0, 0, 0, 0, 0));
      return stream;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    streams.slice(0, 5).forEach((s) => s.close(http2.constants.NGHTTP2_CANCEL));
    // Half a message, then the connection dies under the other five.
    streams[5].write(Uint8Array.of(0, 0, 0, 0x10));
    session.destroy();
  }
  // Garbage after the preface, and a connection closed inside it.
  for (const bytes of ["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\xff\xff\xff\xff", "PRI * HTT"]) {
    const { hostname, port } = new URL(url);
    if (tlsCa) break;
    const conn = await Deno.connect({ hostname, port: Number(port) });
    await conn.write(new TextEncoder().encode(bytes));
    conn.close();
  }
}

Deno.test("reset streams and torn connections end calls, never the process", opts, async () => {
  await abuse(`http://127.0.0.1:${plain.port}`);
  await abuse(`https://localhost:${tls.port}`, ca);
  const ports: [ServiceProcess, string][] = [
    [plain, plain.url],
    [tls, `https://localhost:${tls.port}`],
  ];
  for (const [service, url] of ports) {
    const client = url.startsWith("https")
      ? grpcClient(`localhost:${service.port}`, { ca })
      : grpcClient(`127.0.0.1:${service.port}`);
    const check = await unaryCall(client, CHECK, checkRequest());
    client.close();
    assert.equal(check.code, 0, `${url}: ${check.details}`);
  }
  const live = await fetch(`${plain.url}/livez`);
  assert.equal(live.status, 200);
  await live.body?.cancel();
});

Deno.test("SIGTERM: the native gRPC Watch hears NOT_SERVING and ends; exit 0", opts, async () => {
  const client = grpcClient(`127.0.0.1:${plain.port}`);
  const statuses: number[] = [];
  const watch = new Promise<number>((resolve) => {
    const call = client.makeServerStreamRequest(
      "/grpc.health.v1.Health/Watch",
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => new Uint8Array(b),
      checkRequest("readiness"),
    );
    call.on(
      "data",
      (m: Uint8Array) => statuses.push(fromBinary(HealthCheckResponseSchema, m).status),
    );
    call.on("error", () => {});
    call.on("status", (s: { code: number }) => resolve(s.code));
  });
  for (const deadline = Date.now() + 5000; statuses.length === 0 && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.deepEqual(statuses, [ServingStatus.SERVING]);
  const stopped = plain.stop();
  assert.equal(await watch, 0);
  assert.deepEqual(statuses, [ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  assert.equal((await stopped).code, 0);
  client.close();
});

Deno.test("teardown", opts, async () => {
  await tls.stop();
  await redis.stop();
  await nats.destroy();
  await pg.destroy();
  await Deno.remove(dir, { recursive: true });
});
