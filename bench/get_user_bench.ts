/**
 * `deno task bench`: the read path against the runtime's ceiling. Four ratios, each against an
 * anchor measured in the same run, both sides interleaved over rounds (medians, min-max spread):
 *
 * 1. GetUser, Connect JSON over HTTP/1.1 (wrk -t2 -c64) vs a bare `Deno.serve`;
 * 2. GetUser, gRPC-web binary vs GetUser, Connect JSON (both wrk, HTTP/1.1);
 * 3. GetUser, Connect JSON over h2c (h2load -c64 -m1) vs the bare server over h2c;
 * 4. a no-database unary call (grpc.health.v1.Health/Check on the cached report) vs bare.
 *
 * The User Service runs as a real process with throwaway PostgreSQL and Redis (test harness), so
 * the figures include auth, the protocol layer, the profile cache and metrics. wrk and h2load
 * share the machine's cores with the server: the ratio, not the absolute number, is the figure.
 *
 * Options (environment): BENCH_SECONDS (5 per measurement), BENCH_ROUNDS (5),
 * BENCH_CONNECTIONS (64), RPC_FAST_PATH (passed to the service; `off` measures connect-es alone).
 *
 * @module
 */
import { toBinary } from "@bufbuild/protobuf";
import { GetUserRequestSchema, Role, UserService } from "@platform/proto/users/v1";
import { create } from "@bufbuild/protobuf";
import { PostgresServer } from "../tests/harness/postgres_server.ts";
import { spawnTracked } from "../tests/harness/processes.ts";
import { RedisServer } from "../tests/harness/redis_server.ts";
import { rpcClient } from "../tests/harness/rpc_clients.ts";
import { ServiceProcess } from "../tests/harness/service_process.ts";
import {
  h2load,
  type LoadResult,
  machineLoad,
  median,
  requireTools,
  spread,
  wrk,
  type WrkRequest,
  wrkScript,
} from "./bench_tools.ts";
import { exitOnHelp, moduleDoc } from "@platform/lib/config";

exitOnHelp(moduleDoc(import.meta.url));

const seconds = Number(Deno.env.get("BENCH_SECONDS") ?? 5);
const rounds = Number(Deno.env.get("BENCH_ROUNDS") ?? 5);
const connections = Number(Deno.env.get("BENCH_CONNECTIONS") ?? 64);
const secret = "bench-secret-that-is-long-enough-0123456789";

requireTools(["wrk", "h2load"]);

const [pg, redis] = await Promise.all([PostgresServer.start(), RedisServer.start()]);
const serviceEnv: Record<string, string> = {
  DATABASE_URL: await pg.createDatabase("freelance_platform"),
  REDIS_URL: redis.url,
  JWT_SECRETS: secret,
};
const fastPath = Deno.env.get("RPC_FAST_PATH");
if (fastPath) serviceEnv.RPC_FAST_PATH = fastPath;
const users = await ServiceProcess.start("users", serviceEnv);
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
  const auth = { authorization: `Bearer ${accessToken}` };
  const getUserJson: WrkRequest = {
    body: JSON.stringify({ user_id: user!.id }),
    headers: { "content-type": "application/json", ...auth },
  };
  const message = toBinary(
    GetUserRequestSchema,
    create(GetUserRequestSchema, { userId: user!.id }),
  );
  const envelope = new Uint8Array(5 + message.length);
  new DataView(envelope.buffer).setUint32(1, message.length);
  envelope.set(message, 5);
  const getUserGrpcWeb: WrkRequest = {
    body: envelope,
    headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1", ...auth },
  };
  const healthCheck: WrkRequest = {
    body: "{}",
    headers: { "content-type": "application/json" },
  };
  const getUserUrl = `${users.url}/platform.users.v1.UserService/GetUser`;
  const healthUrl = `${users.url}/grpc.health.v1.Health/Check`;
  const bareUrl = `http://127.0.0.1:${barePort}/`;
  const scripts = {
    json: await wrkScript(getUserJson),
    grpcWeb: await wrkScript(getUserGrpcWeb),
    health: await wrkScript(healthCheck),
  };
  await checkAnswers(getUserUrl, getUserJson, getUserGrpcWeb, healthUrl, healthCheck);

  const h1 = { seconds, connections };
  const h2 = { seconds, connections, streams: 1 };
  const measures: Array<{ name: string; run: () => Promise<LoadResult> }> = [
    { name: "bare Deno.serve, HTTP/1.1", run: () => wrk(bareUrl, scripts.json, h1) },
    { name: "GetUser Connect JSON, HTTP/1.1", run: () => wrk(getUserUrl, scripts.json, h1) },
    { name: "GetUser gRPC-web binary, HTTP/1.1", run: () => wrk(getUserUrl, scripts.grpcWeb, h1) },
    { name: "Health/Check Connect JSON, HTTP/1.1", run: () => wrk(healthUrl, scripts.health, h1) },
    { name: "bare Deno.serve, h2c", run: () => h2load(bareUrl, getUserJson, h2) },
    { name: "GetUser Connect JSON, h2c", run: () => h2load(getUserUrl, getUserJson, h2) },
  ];
  // Warm-up (JIT, pools, caches) of every target, not measured.
  for (const m of measures) await m.run.call(null);

  const results = new Map<string, LoadResult[]>(measures.map((m) => [m.name, []]));
  console.log(
    `read path vs bare Deno.serve: ${rounds} rounds x ${measures.length} measurements of ` +
      `${seconds}s, ${connections} connections (wrk -t2, h2load -t2 -m1); ${machineLoad()} ` +
      `before the run; fast path ${fastPath ?? "on"}`,
  );
  for (let round = 0; round < rounds; round++) {
    // Rotate the order every round so no side always runs first or last.
    const order = measures.map((_, i) => measures[(i + round) % measures.length]);
    for (const m of order) results.get(m.name)!.push(await m.run());
    console.log(
      `round ${round + 1}: ` +
        measures.map((m) => `${m.name} ${results.get(m.name)![round].rps.toFixed(0)}`).join(
          " | ",
        ),
    );
  }

  console.log("\nreq/s per side: median (min-max) over rounds; p50/p99 of the median round");
  for (const m of measures) {
    const list = results.get(m.name)!;
    const rps = list.map((r) => r.rps);
    const mid = list[rps.indexOf([...rps].sort((a, b) => a - b)[Math.floor(rps.length / 2)])];
    const errors = list.reduce((n, r) => n + r.errors, 0);
    console.log(
      `  ${m.name.padEnd(38)} ${spread(rps).padEnd(24)} ${mid.p50} / ${mid.p99}` +
        (errors ? `  ERRORS ${errors}` : ""),
    );
  }
  const ratio = (a: string, b: string, label: string, goal: number) => {
    const x = results.get(a)!.map((r) => r.rps);
    const y = results.get(b)!.map((r) => r.rps);
    const perRound = x.map((v, i) => v / y[i]);
    const value = median(x) / median(y);
    console.log(
      `  ${label.padEnd(58)} ${value.toFixed(3)}  per round ${spread(perRound, 3)}  goal >= ${
        goal.toFixed(2)
      }`,
    );
  };
  console.log("\nratios (median / median)");
  ratio(
    "GetUser Connect JSON, HTTP/1.1",
    "bare Deno.serve, HTTP/1.1",
    "GetUser Connect JSON vs bare, HTTP/1.1 (wrk -t2 -c64)",
    0.4,
  );
  ratio(
    "GetUser gRPC-web binary, HTTP/1.1",
    "GetUser Connect JSON, HTTP/1.1",
    "GetUser gRPC-web binary vs GetUser Connect JSON",
    1.0,
  );
  ratio(
    "GetUser Connect JSON, h2c",
    "bare Deno.serve, h2c",
    "GetUser Connect JSON vs bare, h2c (h2load -c64 -m1)",
    0.4,
  );
  ratio(
    "Health/Check Connect JSON, HTTP/1.1",
    "bare Deno.serve, HTTP/1.1",
    "no-database unary (Health/Check, cached report) vs bare",
    0.6,
  );
  console.log(`\n${machineLoad()} after the run`);
} finally {
  bare.kill("SIGKILL");
  await users.stop();
  await redis.stop();
  await pg.destroy();
}

/** Fails the run when a target does not answer 200 with what the benchmark expects. */
async function checkAnswers(
  getUserUrl: string,
  json: WrkRequest,
  grpcWeb: WrkRequest,
  healthUrl: string,
  health: WrkRequest,
): Promise<void> {
  const post = (url: string, r: WrkRequest) =>
    fetch(url, {
      method: "POST",
      headers: r.headers,
      body: typeof r.body === "string" ? r.body : r.body as Uint8Array<ArrayBuffer>,
    });
  const a = await post(getUserUrl, json);
  const aBody = await a.text();
  if (a.status !== 200 || !aBody.includes('"user"')) throw new Error(`GetUser JSON: ${aBody}`);
  const b = await post(getUserUrl, grpcWeb);
  const bBody = new TextDecoder().decode(await b.arrayBuffer());
  if (!bBody.includes("grpc-status: 0")) throw new Error(`GetUser gRPC-web: ${bBody}`);
  const c = await post(healthUrl, health);
  const cBody = await c.text();
  if (!cBody.includes("SERVING")) throw new Error(`Health/Check: ${cBody}`);
}
