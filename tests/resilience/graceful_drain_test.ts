/**
 * Graceful drain (issue 13): on SIGTERM the listener stays open while requests still come or are
 * in flight (at most SHUTDOWN_GRACE_MS): `/readyz` answers 503 on new connections, keep-alive
 * responses carry `Connection: close`, new RPCs are refused as unavailable, and a call that was
 * in flight when the signal came is answered before the process exits 0.
 */
import assert from "node:assert/strict";
import { startUsersEnv } from "../users/users_env.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** One HTTP/1.1 request on an open connection; resolves with the raw response head and body. */
async function exchange(conn: Deno.Conn, request: string): Promise<string> {
  await conn.write(new TextEncoder().encode(request));
  return await readResponse(conn);
}

async function readResponse(conn: Deno.Conn): Promise<string> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(65536);
  let text = "";
  while (true) {
    const n = await conn.read(buffer);
    if (n === null) return text;
    text += decoder.decode(buffer.subarray(0, n));
    const headEnd = text.indexOf("\r\n\r\n");
    if (headEnd < 0) continue;
    const length = Number(/content-length: *(\d+)/i.exec(text.slice(0, headEnd))?.[1] ?? 0);
    if (text.length >= headEnd + 4 + length) return text;
  }
}

Deno.test(
  "SIGTERM drains: listener open, /readyz 503, Connection: close, in-flight call answered",
  opts,
  async () => {
    const env = await startUsersEnv({ SHUTDOWN_GRACE_MS: "8000", SHUTDOWN_DRAIN_MS: "1500" });
    const { port } = env.users;
    const get = (path: string) =>
      `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: keep-alive\r\n\r\n`;
    try {
      // A keep-alive connection, used before the signal.
      const keepAlive = await Deno.connect({ hostname: "127.0.0.1", port });
      assert.match(await exchange(keepAlive, get("/readyz")), /^HTTP\/1.1 200/);
      // A call in flight: its body is sent in two parts, the second after the signal.
      const body = JSON.stringify({ email: "nobody@example.com", password: "not the password" });
      const slow = await Deno.connect({ hostname: "127.0.0.1", port });
      await slow.write(new TextEncoder().encode(
        "POST /platform.users.v1.UserService/Login HTTP/1.1\r\nhost: 127.0.0.1\r\n" +
          `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n` +
          body.slice(0, 10),
      ));
      await new Promise((r) => setTimeout(r, 200));

      env.users.process.kill("SIGTERM");
      await env.users.process.waitForLine((l) => l.includes('"msg":"shutting down"'), 5000);

      // The listener is still open: a new connection gets /readyz 503.
      const readyz = await fetch(`${env.users.url}/readyz`);
      assert.equal(readyz.status, 503);
      assert.equal((await readyz.json()).status, "draining");
      assert.equal(readyz.headers.get("connection"), "close");
      // The keep-alive connection is told to close after its next response.
      const livez = await exchange(keepAlive, get("/livez"));
      assert.match(livez, /^HTTP\/1.1 200/);
      assert.match(livez, /\r\nconnection: close\r\n/i);
      keepAlive.close();
      // A new RPC is refused as unavailable (retry on another replica).
      const refused = await fetch(`${env.users.url}/platform.users.v1.UserService/Login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      assert.equal(refused.status, 503);
      assert.equal((await refused.json()).code, "unavailable");

      // The call in flight finishes and is answered (wrong password: unauthenticated, not cut off).
      await slow.write(new TextEncoder().encode(body.slice(10)));
      const answer = await readResponse(slow);
      slow.close();
      assert.match(answer, /^HTTP\/1.1 401/, answer);
      assert.match(answer, /unauthenticated/);

      const status = await env.users.process.status;
      assert.equal(status.code, 0);
      const messages = env.users.logs().map((l) => l.msg);
      assert.ok(messages.indexOf("closing the listener") > messages.indexOf("shutting down"));
      assert.ok(messages.includes("stopped"));
    } finally {
      env.users.process.kill("SIGKILL");
      await env.redis.stop();
      await env.pg.destroy();
    }
  },
);

Deno.test(
  "SIGTERM with no traffic closes after SHUTDOWN_DRAIN_MS, well within the grace period",
  opts,
  async () => {
    const env = await startUsersEnv({ SHUTDOWN_GRACE_MS: "10000", SHUTDOWN_DRAIN_MS: "300" });
    try {
      // HTTP/2 responses while draining stay valid (no connection header on h2).
      const client = Deno.createHttpClient({ http2: true, http1: false });
      const started = Date.now();
      env.users.process.kill("SIGTERM");
      await env.users.process.waitForLine((l) => l.includes('"msg":"shutting down"'), 5000);
      const h2 = await fetch(`${env.users.url}/readyz`, { client });
      assert.equal(h2.status, 503);
      await h2.body?.cancel();
      client.close();
      const status = await env.users.process.status;
      assert.equal(status.code, 0);
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    } finally {
      await env.redis.stop();
      await env.pg.destroy();
    }
  },
);
