/**
 * `deno task bench`: GetUser throughput and latency of the User Service against a bare
 * `Deno.serve` on the same machine in the same run, both driven by wrk (HTTP/1.1) and, when
 * installed, h2load (h2c). The service runs as a real process with throwaway PostgreSQL and
 * Redis from the test harness, so the figures include auth, the Connect adapter, the Redis cache
 * and metrics.
 *
 * Options (environment): BENCH_SECONDS (10), BENCH_CONNECTIONS (32).
 *
 * @module
 */
import { Role, UserService } from "@platform/proto/users/v1";
import { PostgresServer } from "../tests/harness/postgres_server.ts";
import { hasCommand, spawnTracked } from "../tests/harness/processes.ts";
import { RedisServer } from "../tests/harness/redis_server.ts";
import { rpcClient } from "../tests/harness/rpc_clients.ts";
import { ServiceProcess } from "../tests/harness/service_process.ts";

const seconds = Number(Deno.env.get("BENCH_SECONDS") ?? 10);
const connections = Number(Deno.env.get("BENCH_CONNECTIONS") ?? 32);
const secret = "bench-secret-that-is-long-enough-0123456789";

if (!hasCommand("wrk")) {
  console.error("wrk is not installed: apt-get install wrk (and nghttp2-client for h2load)");
  Deno.exit(1);
}

const [pg, redis] = await Promise.all([PostgresServer.start(), RedisServer.start()]);
const users = await ServiceProcess.start("users", {
  DATABASE_URL: await pg.createDatabase("freelance_platform"),
  REDIS_URL: redis.url,
  JWT_SECRETS: secret,
});
const bare = spawnTracked(Deno.execPath(), {
  args: ["run", "-A", new URL("./bare_server.ts", import.meta.url).pathname],
});
const barePort = JSON.parse(await bare.waitForLine((l) => l.startsWith("{"), 20_000)).port;

try {
  const anonymous = rpcClient(UserService, users.url);
  await anonymous.register({
    email: "bench@example.com",
    password: "bench password",
    role: Role.DEVELOPER,
    displayName: "Bench Developer",
  });
  const { accessToken, user } = await anonymous.login({
    email: "bench@example.com",
    password: "bench password",
  });
  const body = JSON.stringify({ user_id: user!.id });
  const script = await Deno.makeTempFile({ suffix: ".lua" });
  await Deno.writeTextFile(
    script,
    `wrk.method = "POST"\nwrk.body = '${body}'\n` +
      `wrk.headers["content-type"] = "application/json"\n` +
      `wrk.headers["authorization"] = "Bearer ${accessToken}"\n`,
  );
  const getUser = `${users.url}/platform.users.v1.UserService/GetUser`;
  const bareUrl = `http://127.0.0.1:${barePort}/`;
  // Warm up both (JIT, pool, cache).
  await wrk(getUser, script, 2);
  await wrk(bareUrl, script, 2);

  console.log(`GetUser vs bare Deno.serve, ${seconds}s each, ${connections} connections, 2 cores`);
  const rows: string[][] = [["target", "protocol", "req/s", "p50", "p99"]];
  const service = await wrk(getUser, script, seconds);
  const baseline = await wrk(bareUrl, script, seconds);
  rows.push(["GetUser (Connect JSON)", "HTTP/1.1 wrk", ...service]);
  rows.push(["bare Deno.serve", "HTTP/1.1 wrk", ...baseline]);
  if (hasCommand("h2load")) {
    const bodyFile = await Deno.makeTempFile();
    await Deno.writeTextFile(bodyFile, body);
    rows.push([
      "GetUser (Connect JSON)",
      "h2c h2load",
      ...await h2load(getUser, bodyFile, accessToken),
    ]);
    rows.push(["bare Deno.serve", "h2c h2load", ...await h2load(bareUrl, bodyFile, accessToken)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i])).join("  "));
  const ratio = Number(service[0]) / Number(baseline[0]);
  console.log(
    `GetUser serves ${(ratio * 100).toFixed(0)}% of the bare server's requests per second`,
  );
} finally {
  bare.kill("SIGKILL");
  await users.stop();
  await redis.stop();
  await pg.destroy();
}

async function wrk(url: string, script: string, duration: number): Promise<string[]> {
  const out = await new Deno.Command("wrk", {
    args: ["-t2", `-c${connections}`, `-d${duration}s`, "--latency", "-s", script, url],
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? "?";
  const p50 = /\s50%\s+([\d.]+\w+)/.exec(text)?.[1] ?? "?";
  const p99 = /\s99%\s+([\d.]+\w+)/.exec(text)?.[1] ?? "?";
  if (/Non-2xx/.test(text)) throw new Error(`wrk saw errors:\n${text}`);
  return [Number(rps).toFixed(0), p50, p99];
}

async function h2load(url: string, bodyFile: string, token: string): Promise<string[]> {
  const out = await new Deno.Command("h2load", {
    args: [
      "-D",
      String(seconds),
      "-c",
      String(connections),
      "-m",
      "4",
      "-t",
      "2",
      "-d",
      bodyFile,
      "-H",
      "content-type: application/json",
      "-H",
      `authorization: Bearer ${token}`,
      url,
    ],
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = /finished in [^,]+, ([\d.]+) req\/s/.exec(text)?.[1] ?? "?";
  const line = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)/.exec(text);
  return [Number(rps).toFixed(0), `mean ${line?.[3] ?? "?"}`, `max ${line?.[2] ?? "?"}`];
}
