import { PostgresServer } from "../tests/harness/postgres_server.ts";
import { RedisServer } from "../tests/harness/redis_server.ts";
import { ServiceProcess } from "../tests/harness/service_process.ts";
const [pg, redis] = await Promise.all([PostgresServer.start(), RedisServer.start()]);
const users = await ServiceProcess.start("users", {
  DATABASE_URL: await pg.createDatabase("freelance_platform"),
  REDIS_URL: redis.url,
  JWT_SECRETS: "x".repeat(40),
  ...JSON.parse(Deno.env.get("EXTRA_ENV") ?? "{}"),
});
const rss = () =>
  Math.round(
    Number(
      /VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${users.process.child.pid}/status`))![1],
    ) / 1024,
  );
const post = (m: string, b: unknown) =>
  fetch(`${users.url}/platform.users.v1.UserService/${m}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(b),
  }).then((r) => r.json());
console.log("start", rss());
for (let i = 0; i < 64; i++) {
  await post("Register", {
    email: `u${i}@example.com`,
    password: "burst password",
    role: "ROLE_DEVELOPER",
  });
}
console.log("after 64 sequential registers", rss());
for (let round = 0; round < 3; round++) {
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from(
      { length: 64 },
      (_, i) => post("Login", { email: `u${i}@example.com`, password: "burst password" }),
    ),
  );
  const failed = results.filter((r) => !r.accessToken).length;
  console.log(
    `burst ${round}: ${(performance.now() - t0).toFixed(0)} ms, failed ${failed}, rss ${rss()} MB`,
  );
}
await new Promise((r) => setTimeout(r, 2000));
console.log("2 s later", rss());
await users.stop();
await redis.stop();
await pg.destroy();
