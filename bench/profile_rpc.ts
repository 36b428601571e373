import { PostgresServer } from "../tests/harness/postgres_server.ts";
import { RedisServer } from "../tests/harness/redis_server.ts";
import { spawnTracked } from "../tests/harness/processes.ts";
import { rpcClient } from "../tests/harness/rpc_clients.ts";
import { Role, UserService } from "@platform/proto/users/v1";
import { wrk, wrkScript } from "./bench_tools.ts";
const target = Deno.args[0] ?? "getuser-json";
const seconds = Number(Deno.args[1] ?? 10);
const [pg, redis] = await Promise.all([PostgresServer.start(), RedisServer.start()]);
const secret = "bench-secret-that-is-long-enough-0123456789";
const env = {
  PORT: "0",
  HOST: "127.0.0.1",
  DATABASE_URL: await pg.createDatabase("freelance_platform"),
  REDIS_URL: redis.url,
  JWT_SECRETS: secret,
  ...JSON.parse(Deno.env.get("EXTRA_ENV") ?? "{}"),
};
const proc = spawnTracked(Deno.execPath(), {
  args: [
    "run",
    "-A",
    ...(Deno.env.get("NO_PROF") ? [] : ["--cpu-prof", "--cpu-prof-dir=/tmp/rp/prof"]),
    "services/users/main.ts",
  ],
  cwd: "/work/wt/readpath",
  env,
});
const line = await proc.waitForLine((l) => l.includes('"msg":"listening"'), 60000);
const url = `http://127.0.0.1:${JSON.parse(line).port}`;
const c = rpcClient(UserService, url);
await c.register({
  email: "p@example.com",
  password: "bench password",
  role: Role.DEVELOPER,
  displayName: "P",
});
const { accessToken, user } = await c.login({ email: "p@example.com", password: "bench password" });
const auth = { authorization: `Bearer ${accessToken}` };
let script: string, path: string;
if (target === "health") {
  script = await wrkScript({ body: "{}", headers: { "content-type": "application/json" } });
  path = "/grpc.health.v1.Health/Check";
} else if (target === "getuser-grpcweb") {
  const { toBinary, create } = await import("@bufbuild/protobuf");
  const { GetUserRequestSchema } = await import("@platform/proto/users/v1");
  const m = toBinary(GetUserRequestSchema, create(GetUserRequestSchema, { userId: user!.id }));
  const e = new Uint8Array(5 + m.length);
  new DataView(e.buffer).setUint32(1, m.length);
  e.set(m, 5);
  script = await wrkScript({
    body: e,
    headers: { "content-type": "application/grpc-web+proto", ...auth },
  });
  path = "/platform.users.v1.UserService/GetUser";
} else {
  script = await wrkScript({
    body: JSON.stringify({ user_id: user!.id }),
    headers: { "content-type": "application/json", ...auth },
  });
  path = "/platform.users.v1.UserService/GetUser";
}
await wrk(url + path, script, { seconds: 2, connections: 64 });
const cpu = () => {
  const f = Deno.readTextFileSync(`/proc/${proc.child.pid}/stat`).split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, in ms (100 ticks/s)
};
const cpu0 = cpu();
const r = await wrk(url + path, script, { seconds, connections: 64 });
const used = cpu() - cpu0;
console.log(
  target,
  JSON.stringify(r),
  `server CPU ${(used * 1000 / (r.rps * seconds)).toFixed(1)} us/request`,
);
proc.kill("SIGTERM");
await proc.status;
const counts = new Map<string, number>();
for (const l of proc.lines) {
  try {
    const m = JSON.parse(l).msg;
    counts.set(m, (counts.get(m) ?? 0) + 1);
  } catch { /* not JSON */ }
}
console.log("log lines:", JSON.stringify(Object.fromEntries(counts)));
await redis.stop();
await pg.destroy();
