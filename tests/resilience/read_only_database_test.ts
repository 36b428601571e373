/**
 * A database that refuses writes (read-only: `default_transaction_read_only`, as a standby or a
 * full disk would) makes `/health` 503 "unhealthy" on every service, and healthy again once it
 * takes writes (issue 21). Only the harness's own PostgreSQL is reconfigured.
 */
import assert from "node:assert/strict";
import { PlatformEnv } from "../orchestrator/orchestrator_env.ts";

async function health(url: string): Promise<{ status: number; database?: string }> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
  const body = await res.json();
  return { status: res.status, database: body.checks?.database };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

Deno.test(
  "/health is 503 unhealthy on every service while PostgreSQL refuses writes",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const env = await PlatformEnv.start();
    try {
      await env.startTasks();
      await env.startOrchestrator();
      const services = [env.users!, env.tasks!, env.orchestrators[0]];
      for (const service of services) {
        await waitFor(async () => (await health(service.url)).status === 200, 20_000, "healthy");
      }
      await env.sql!`ALTER SYSTEM SET default_transaction_read_only = on`;
      await env.sql!`SELECT pg_reload_conf()`;
      for (const service of services) {
        await waitFor(
          async () => {
            const h = await health(service.url);
            return h.status === 503 && h.database === "unhealthy";
          },
          15_000,
          `${service.name} to report the read-only database`,
        );
      }
      await env.sql!`ALTER SYSTEM RESET default_transaction_read_only`;
      await env.sql!`SELECT pg_reload_conf()`;
      for (const service of services) {
        await waitFor(async () => (await health(service.url)).status === 200, 15_000, "healthy");
      }
      assert.ok(true);
    } finally {
      await env.sql!`ALTER SYSTEM RESET default_transaction_read_only`.catch(() => {});
      await env.stop();
    }
  },
);
