/**
 * Profile one RPC before optimising it: starts the User Service (throwaway PostgreSQL and Redis)
 * with `--cpu-prof`, drives one call with wrk (64 connections) and prints requests per second and
 * the server's CPU time per request, read from /proc (robust against a busy machine, unlike
 * req/s). The `.cpuprofile` it leaves opens in Chrome DevTools (Performance tab).
 *
 * Run: `./deno run -A bench/profile_rpc.ts [getuser-json|getuser-grpcweb|health] [seconds]`;
 * PROFILE_DIR (a temporary directory) keeps the profile, NO_PROF=1 skips it, EXTRA_ENV='{"K":"V"}'
 * adds to the service's environment (RPC_FAST_PATH=false compares with connect-es alone).
 *
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { GetUserRequestSchema, Role, UserService } from "@platform/proto/users/v1";
import { PostgresServer } from "../tests/harness/postgres_server.ts";
import { spawnTracked } from "../tests/harness/processes.ts";
import { RedisServer } from "../tests/harness/redis_server.ts";
import { rpcClient } from "../tests/harness/rpc_clients.ts";
import { requireTools, wrk, wrkScript } from "./bench_tools.ts";

requireTools(["wrk"]);
const target = Deno.args[0] ?? "getuser-json";
const seconds = Number(Deno.args[1] ?? 10);
const profileDir = Deno.env.get("PROFILE_DIR") ?? await Deno.makeTempDir({ prefix: "fp-prof-" });
const secret = "bench-secret-that-is-long-enough-0123456789";
const [pg, redis] = await Promise.all([PostgresServer.start(), RedisServer.start()]);
const env = {
  PORT: "0",
  HOST: "127.0.0.1",
  DATABASE_URL: await pg.createDatabase("freelance_platform"),
  REDIS_URL: redis.url,
  JWT_SECRETS: secret,
  ...JSON.parse(Deno.env.get("EXTRA_ENV") ?? "{}"),
};
const profile = Deno.env.get("NO_PROF") ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`];
const proc = spawnTracked(Deno.execPath(), {
  args: ["run", "-A", ...profile, "services/users/main.ts"],
  cwd: new URL("../", import.meta.url).pathname,
  env,
});
try {
  const line = await proc.waitForLine((l) => l.includes('"msg":"listening"'), 60_000);
  const url = `http://127.0.0.1:${JSON.parse(line).port}`;
  const anonymous = rpcClient(UserService, url);
  await anonymous.register({
    email: "p@example.com",
    password: "bench password",
    role: Role.DEVELOPER,
    displayName: "P",
  });
  const { accessToken, user } = await anonymous.login({
    email: "p@example.com",
    password: "bench password",
  });
  const auth = { authorization: `Bearer ${accessToken}` };
  let script: string;
  let path = "/platform.users.v1.UserService/GetUser";
  if (target === "health") {
    script = await wrkScript({ body: "{}", headers: { "content-type": "application/json" } });
    path = "/grpc.health.v1.Health/Check";
  } else if (target === "getuser-grpcweb") {
    const m = toBinary(GetUserRequestSchema, create(GetUserRequestSchema, { userId: user!.id }));
    const e = new Uint8Array(5 + m.length);
    new DataView(e.buffer).setUint32(1, m.length);
    e.set(m, 5);
    script = await wrkScript({
      body: e,
      headers: { "content-type": "application/grpc-web+proto", ...auth },
    });
  } else {
    script = await wrkScript({
      body: JSON.stringify({ user_id: user!.id }),
      headers: { "content-type": "application/json", ...auth },
    });
  }
  await wrk(url + path, script, { seconds: 2, connections: 64 });
  const cpuMs = () => {
    const fields = Deno.readTextFileSync(`/proc/${proc.child.pid}/stat`).split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, 100 ticks a second
  };
  const threads = () => {
    const out = new Map<string, number>();
    for (const task of Deno.readDirSync(`/proc/${proc.child.pid}/task`)) {
      try {
        const stat = Deno.readTextFileSync(`/proc/${proc.child.pid}/task/${task.name}/stat`);
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\d+$/, "#");
        const fields = stat.split(") ")[1].split(" ");
        out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10);
      } catch { /* the thread ended */ }
    }
    return out;
  };
  const before = cpuMs();
  const threadsBefore = threads();
  const result = await wrk(url + path, script, { seconds, connections: 64 });
  const perRequest = (cpuMs() - before) * 1000 / (result.rps * seconds);
  const byThread = [...threads()].map(([name, ms]) => [name, ms - (threadsBefore.get(name) ?? 0)])
    .filter(([, ms]) => (ms as number) > 0)
    .map(([name, ms]) => `${name} ${((ms as number) * 1000 / (result.rps * seconds)).toFixed(1)}`);
  console.log(
    `${target}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50}, p99 ${result.p99}, ` +
      `errors ${result.errors}; server CPU ${perRequest.toFixed(1)} us/request`,
  );
  console.log(`  by thread (us/request): ${byThread.join(", ")}`);
} finally {
  proc.kill("SIGTERM");
  await proc.status;
  await redis.stop();
  await pg.destroy();
}
if (profile.length > 0) console.log(`CPU profile in ${profileDir}`);
