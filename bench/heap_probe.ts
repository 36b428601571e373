import { PostgresServer } from "../tests/harness/postgres_server.ts";
import { RedisServer } from "../tests/harness/redis_server.ts";
import { ServiceProcess } from "../tests/harness/service_process.ts";
import { TokenService } from "@platform/lib/auth";
import { wrk, wrkScript } from "./bench_tools.ts";
const secret = "x".repeat(40);
const [pg, redis] = await Promise.all([PostgresServer.start(), RedisServer.start()]);
const users = await ServiceProcess.start("users", {
  DATABASE_URL: await pg.createDatabase("freelance_platform"),
  REDIS_URL: redis.url,
  JWT_SECRETS: secret,
});
const tokens = new TokenService([secret], 3600);
const admin = (await tokens.issue({ subject: "a", role: "admin" })).token;
const dev = (await tokens.issue({ subject: crypto.randomUUID(), role: "developer" })).token;
const mem = async () =>
  JSON.stringify(
    (await fetch(`${users.url}/debug/memory`, { headers: { authorization: `Bearer ${admin}` } })
      .then((r) => r.json())).memory,
  );
console.log("idle", await mem());
const target = Deno.args[0] ?? "GetUser";
const body = target === "Heartbeat"
  ? "{}"
  : target === "SearchDevelopers"
  ? '{"skill_tags":["go"]}'
  : "{}";
const script = await wrkScript({
  body,
  headers: { "content-type": "application/json", authorization: `Bearer ${dev}` },
});
const r = await wrk(`${users.url}/platform.users.v1.UserService/${target}`, script, {
  seconds: 8,
  connections: 64,
});
console.log(target, JSON.stringify(r));
console.log("after", await mem());
const snap = await fetch(`${users.url}/debug/heap`, {
  headers: { authorization: `Bearer ${admin}` },
}).then((r) => r.text());
await Deno.writeTextFile("/tmp/rp/users.heapsnapshot", snap);
await users.stop();
await redis.stop();
await pg.destroy();
