/**
 * With TLS files configured, the same port serves HTTPS with HTTP/2 (ALPN) and HTTP/1.1.
 */
import assert from "node:assert/strict";
import { NatsServer } from "../harness/nats_server.ts";
import { PostgresServer } from "../harness/postgres_server.ts";
import { RedisServer } from "../harness/redis_server.ts";
import { ServiceProcess } from "../harness/service_process.ts";
import { makeTestCertificates } from "../harness/test_certificates.ts";
import { TEST_SECRET } from "./users_env.ts";

Deno.test("HTTPS with h2 when TLS_CERT_FILE and TLS_KEY_FILE are set", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  // A throwaway CA and a server certificate it signs for localhost.
  const { dir, certFile, keyFile, caPem } = await makeTestCertificates();
  const [pg, redis, nats] = await Promise.all([
    PostgresServer.start(),
    RedisServer.start(),
    NatsServer.start(),
  ]);
  const users = await ServiceProcess.start("users", {
    DATABASE_URL: await pg.createDatabase("freelance_platform"),
    REDIS_URL: redis.url,
    NATS_URL: nats.url,
    JWT_SECRETS: TEST_SECRET,
    TLS_CERT_FILE: certFile,
    TLS_KEY_FILE: keyFile,
  });
  try {
    const caCerts = [caPem];
    const h2 = Deno.createHttpClient({ caCerts, http2: true, http1: false });
    // Redis and NATS are not critical, so the first report may say "degraded" while their
    // connections are still being made on a loaded machine; it must turn healthy over h2.
    let report: { status?: string; checks?: unknown } = {};
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      const res = await fetch(`https://localhost:${users.port}/health`, { client: h2 });
      assert.equal(res.status, 200);
      report = await res.json();
      if (report.status === "healthy") break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(report.status, "healthy", JSON.stringify(report.checks));
    const h1 = Deno.createHttpClient({ caCerts, http2: false, http1: true });
    const rpc = await fetch(`https://localhost:${users.port}/grpc.health.v1.Health/Check`, {
      client: h1,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal((await rpc.json()).status, "SERVING");
    const plain = await fetch(`http://127.0.0.1:${users.port}/health`).catch((e) => e);
    assert.ok(plain instanceof Error, "plain HTTP must not be served on a TLS port");
    h2.close();
    h1.close();
  } finally {
    await users.stop();
    await redis.stop();
    await nats.destroy();
    await pg.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});
