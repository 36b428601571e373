/**
 * A native gRPC call is counted against its own client's address, not the bridge's: the bridge
 * process calls the service back from 127.0.0.1 (lib/server/native_grpc.ts), so without the
 * peer it passes along every native gRPC client would share one per-address login window, and
 * one attacker could lock out everyone who signs in over native gRPC (or over Connect from
 * 127.0.0.1). The native client here connects from 127.0.0.2, another loopback address.
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { LoginRequestSchema } from "@platform/proto/users/v1";
import { startUsersEnv } from "../users/users_env.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** One native gRPC Login (h2c, `te: trailers`) from `localAddress`; resolves its grpc-status. */
function nativeLogin(url: string, localAddress: string, email: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const session = http2.connect(url, {
    createConnection: () => net.connect({ host: hostname, port: Number(port), localAddress }),
  });
  session.on("error", () => {});
  const body = toBinary(
    LoginRequestSchema,
    create(LoginRequestSchema, { email, password: "wrong password 123" }),
  );
  const frame = new Uint8Array(5 + body.length);
  new DataView(frame.buffer).setUint32(1, body.length);
  frame.set(body, 5);
  return new Promise((resolve, reject) => {
    const req = session.request({
      ":method": "POST",
      ":path": "/platform.users.v1.UserService/Login",
      "content-type": "application/grpc",
      te: "trailers",
    });
    let status: string | undefined;
    req.on("response", (headers) => status ??= headers["grpc-status"] as string | undefined);
    req.on("trailers", (trailers) => status = trailers["grpc-status"] as string | undefined);
    req.on("data", () => {});
    req.on("error", reject);
    req.on("end", () => {
      session.close();
      status === undefined ? reject(new Error("no grpc-status")) : resolve(status);
    });
    req.end(frame);
  });
}

Deno.test(
  "native gRPC logins count against the client's address, not the bridge's",
  opts,
  async () => {
    const env = await startUsersEnv({ LOGIN_ADDRESS_MAX_FAILURES: "3" });
    try {
      const url = env.users.url;
      const unknown = () => `nobody-${crypto.randomUUID()}@example.com`;
      for (let i = 0; i < 3; i++) {
        assert.equal(await nativeLogin(url, "127.0.0.2", unknown()), "16", "unauthenticated");
      }
      // 127.0.0.2's window is used up, over native gRPC too.
      assert.equal(await nativeLogin(url, "127.0.0.2", unknown()), "8", "resource_exhausted");
      // 127.0.0.1 (where the bridge calls from) still has its own window.
      const res = await fetch(`${url}/platform.users.v1.UserService/Login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: unknown(), password: "wrong password 123" }),
      });
      const answer = await res.json();
      assert.equal(answer.code, "unauthenticated", JSON.stringify(answer));
      // A forged bridge header names nobody: the call is the connection's own.
      const forged = await fetch(`${url}/platform.users.v1.UserService/Login`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-platform-grpc-bridge-peer": "guess 1234",
        },
        body: JSON.stringify({ email: unknown(), password: "wrong password 123" }),
      });
      assert.equal((await forged.json()).code, "unauthenticated");
    } finally {
      await env.stop();
    }
  },
);
