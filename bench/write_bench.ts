/**
 * The write path against the database's own speed (`deno task bench:write`): CreateTask (Connect
 * binary unary over HTTP/1.1 keep-alive, a signed-in client) vs `pgbench` single-row INSERT vs
 * `pgbench` running CreateTask's own SQL, all at the same concurrency against the same durable
 * PostgreSQL (fsync, full_page_writes and synchronous_commit on: PostgreSQL's defaults), in
 * interleaved rounds; then commit -> JetStream ack latency of `task.created` at a given create rate.
 *
 * Starts its own PostgreSQL, NATS and Task Service (a real process). The pgbench scripts run in a
 * second database of the same server that has the Task Service's schema (its migrations) and no
 * relay, so the anchor is the database alone. "CreateTask's own SQL" is the statement the service
 * runs (services/tasks/create_task_sql.ts) with one task per transaction; the service may put
 * several concurrent creates in one (group commit).
 *
 * Env: BENCH_CONCURRENCY (16), BENCH_SECONDS per measurement (10), BENCH_ROUNDS (3),
 * BENCH_RATE creates/s of the latency phase (1000), BENCH_RATE_SECONDS (10), BENCH_CPU_PROF=dir
 * (runs the service with --cpu-prof into dir), BENCH_SERVICE_ENV='{"K":"V"}' (added to the
 * service's environment, such as TASK_CREATE_MAX_IN_FLIGHT). Skips with a message when pgbench is missing
 * (Debian: postgresql-client).
 *
 * Run: `./deno task bench:write`
 *
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { connect } from "@nats-io/transport-node";
import postgres from "postgres";
import { TokenService } from "@platform/lib/auth";
import { migrate, readMigrations } from "@platform/lib/db";
import { CreateTaskRequestSchema } from "@platform/proto/tasks/v1";
import { taskCreatedEvent } from "../services/tasks/task_events.ts";
import { NatsServer } from "../tests/harness/nats_server.ts";
import { PostgresServer } from "../tests/harness/postgres_server.ts";
import { ServiceProcess } from "../tests/harness/service_process.ts";
import { machineLoad, median, percentile, spread } from "./bench_tools.ts";
import { ackLatency, ArrivalRecorder } from "./write/ack_latency.ts";
import { machineBusyMs, processCpuMs } from "./write/cpu_time.ts";
import { httpLoad } from "./write/http_load.ts";
import { findPgbench, pgbench } from "./write/pgbench.ts";
import {
  ANCHOR_TABLE_SQL,
  createTasksPgbenchScript,
  INSERT_SCRIPT,
} from "./write/pgbench_scripts.ts";
import { exitOnHelp, moduleDoc } from "@platform/lib/config";

exitOnHelp(moduleDoc(import.meta.url));

const concurrency = Number(Deno.env.get("BENCH_CONCURRENCY") ?? 16);
const seconds = Number(Deno.env.get("BENCH_SECONDS") ?? 10);
const rounds = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);
const rate = Number(Deno.env.get("BENCH_RATE") ?? 1000);
const rateSeconds = Number(Deno.env.get("BENCH_RATE_SECONDS") ?? 10);
const profileDir = Deno.env.get("BENCH_CPU_PROF");
const secret = "bench-secret-that-is-long-enough-0123456789";

const pgbenchBinary = findPgbench();
if (!pgbenchBinary) {
  console.log(
    "bench:write skipped: pgbench is missing (Debian: apt-get install postgresql-client)",
  );
  Deno.exit(0);
}

console.log(
  `bench:write: c${concurrency}, ${rounds} interleaved rounds of ${seconds} s, durable ` +
    `PostgreSQL (fsync=on, synchronous_commit=on); ${machineLoad()} at start`,
);
const [pg, nats] = await Promise.all([
  PostgresServer.start({ diskDurable: true }),
  NatsServer.start(),
]);
const serviceUrl = await pg.createDatabase("freelance_platform");
const anchorUrl = await pg.createDatabase("bench_anchor");
const anchor = postgres(anchorUrl, { max: 2, onnotice: () => {} });
const servicePg = postgres(serviceUrl, { max: 2, onnotice: () => {} });
const scripts = await Deno.makeTempDir({ prefix: "fp-write-bench-" });
let service: ServiceProcess | undefined;
const nc = await connect({ servers: nats.url.replace("nats://", "") });
try {
  await migrate(
    anchor as never,
    "tasks",
    await readMigrations(new URL("../services/tasks/migrations/", import.meta.url)),
  );
  await anchor.unsafe(ANCHOR_TABLE_SQL);
  await servicePg`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`;

  const clientId = crypto.randomUUID();
  const task = {
    clientId,
    title: "bench task",
    description: "created by the write benchmark",
    requiredSkills: ["go", "postgres"],
    budgetMinor: 150000n,
    currency: "USD",
  };
  const event = taskCreatedEvent({
    id: crypto.randomUUID(),
    client_id: clientId,
    title: task.title,
    description: task.description,
    required_skills: task.requiredSkills,
    budget_minor: task.budgetMinor,
    currency: task.currency,
    deadline: null,
  });
  const insertScript = `${scripts}/insert.sql`;
  const ownScript = `${scripts}/create_task.sql`;
  await Deno.writeTextFile(insertScript, INSERT_SCRIPT);
  // The very statement TaskCommands.create runs (one task: pgbench has no batches).
  await Deno.writeTextFile(
    ownScript,
    createTasksPgbenchScript({
      ...task,
      id: "",
      deadline: null,
      actorId: clientId,
      eventId: "",
      eventSubject: event.subject,
      eventPayload: event.payload,
    }),
  );

  service = await ServiceProcess.start(
    "tasks",
    {
      DATABASE_URL: serviceUrl,
      NATS_URL: nats.url,
      JWT_SECRETS: secret,
      CONSUME_PROPOSALS: "false",
      DB_MAX_CONNS: String(Math.max(concurrency + 4, 20)),
      ...JSON.parse(Deno.env.get("BENCH_SERVICE_ENV") ?? "{}"),
    },
    "services/tasks/main.ts",
    profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
  );
  const { token } = await new TokenService([secret], 3600).issue({
    subject: clientId,
    role: "client",
  });
  const request = {
    url: `${service.url}/platform.tasks.v1.TaskService/CreateTask`,
    headers: {
      "content-type": "application/proto",
      "connect-protocol-version": "1",
      authorization: `Bearer ${token}`,
    },
    body: toBinary(
      CreateTaskRequestSchema,
      create(CreateTaskRequestSchema, {
        title: task.title,
        description: task.description,
        requiredSkills: task.requiredSkills,
        budget: { currency: task.currency, amountMinor: task.budgetMinor },
      }),
    ),
  };
  const run = { clients: concurrency, seconds };

  // Warm-up: JIT, pools, prepared statements.
  const warm = await httpLoad(request, { connections: concurrency, seconds: 3 });
  if (warm.ok === 0) throw new Error(`CreateTask fails: ${warm.firstError}`);
  await pgbench(pgbenchBinary, anchorUrl, insertScript, { ...run, seconds: 2 });
  await pgbench(pgbenchBinary, anchorUrl, ownScript, { ...run, seconds: 2 });

  const createRps: number[] = [];
  const insertTps: number[] = [];
  const ownTps: number[] = [];
  const p99s: number[] = [];
  const cpu = { service: [] as number[], client: [] as number[], machine: [] as number[] };
  const servicePid = service.process.child.pid;
  for (let round = 1; round <= rounds; round++) {
    const before = [processCpuMs(servicePid), processCpuMs("self"), machineBusyMs()];
    const created = await httpLoad(request, { connections: concurrency, seconds });
    const after = [processCpuMs(servicePid), processCpuMs("self"), machineBusyMs()];
    const perCreateUs = (i: number) => (after[i] - before[i]) * 1000 / created.ok;
    cpu.service.push(perCreateUs(0));
    cpu.client.push(perCreateUs(1));
    cpu.machine.push(perCreateUs(2));
    const insert = await pgbench(pgbenchBinary, anchorUrl, insertScript, run);
    const own = await pgbench(pgbenchBinary, anchorUrl, ownScript, run);
    createRps.push(created.rps);
    insertTps.push(insert.tps);
    ownTps.push(own.tps);
    p99s.push(percentile(created.latenciesMs, 99));
    console.log(
      `round ${round}: CreateTask ${created.rps.toFixed(0)} req/s (p50 ${
        percentile(created.latenciesMs, 50).toFixed(1)
      } ms, p99 ${percentile(created.latenciesMs, 99).toFixed(1)} ms, ${created.errors} errors${
        created.firstError ? `: ${created.firstError}` : ""
      }) | pgbench INSERT ${insert.tps.toFixed(0)} tps | pgbench CreateTask SQL ${
        own.tps.toFixed(0)
      } tps | ratios ${(created.rps / insert.tps).toFixed(3)}, ${
        (created.rps / own.tps).toFixed(3)
      }`,
    );
  }
  const ratioInsert = createRps.map((r, i) => r / insertTps[i]);
  const ratioOwn = createRps.map((r, i) => r / ownTps[i]);
  console.log(`\nmedians (min-max) over ${rounds} rounds, c${concurrency}:`);
  console.log(`  CreateTask               ${spread(createRps)} req/s, p99 ${spread(p99s, 1)} ms`);
  console.log(`  pgbench single-row INSERT ${spread(insertTps)} tps`);
  console.log(`  pgbench CreateTask's SQL  ${spread(ownTps)} tps`);
  console.log(
    `  CreateTask / pgbench INSERT          ${spread(ratioInsert, 3)}  (goal >= 0.25)`,
  );
  console.log(`  CreateTask / pgbench CreateTask's SQL ${spread(ratioOwn, 3)}  (goal >= 1.0)`);
  console.log(
    `  CPU per CreateTask (us): Task Service ${spread(cpu.service)}, load generator ${
      spread(cpu.client)
    }, whole machine ${spread(cpu.machine)} (PostgreSQL, NATS and other work in the rest)`,
  );

  // Let the relay publish what the rounds left, then measure commit -> ack at a steady rate.
  const drainStart = performance.now();
  const backlog = async () =>
    Number(
      (await servicePg`
      SELECT count(*) AS n FROM task_outbox WHERE published_at IS NULL`)[0].n,
    );
  const left = await backlog();
  while (await backlog() > 0 && performance.now() - drainStart < 120_000) {
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(
    `\noutbox backlog after the rounds: ${left} events, drained in ${
      ((performance.now() - drainStart) / 1000).toFixed(1)
    } s`,
  );
  const recorder = new ArrivalRecorder(nc, "task.created");
  await nc.flush();
  const paced = await httpLoad(request, {
    connections: Math.max(concurrency, 64),
    seconds: rateSeconds,
    ratePerSecond: rate,
  });
  const settle = performance.now();
  while (await backlog() > 0 && performance.now() - settle < 30_000) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 200));
  await recorder.stop();
  const latency = await ackLatency(servicePg, "task_outbox", recorder.arrivals);
  console.log(
    `commit -> JetStream ack at ${rate}/s asked, ${paced.rps.toFixed(0)}/s served ` +
      `(${paced.errors} errors; CreateTask p50 ${
        percentile(paced.latenciesMs, 50).toFixed(1)
      } ms, ` +
      `p99 ${percentile(paced.latenciesMs, 99).toFixed(1)} ms): ${latency.events} events, ` +
      `p50 ${latency.p50.toFixed(1)} ms, p95 ${latency.p95.toFixed(1)} ms, p99 ${
        latency.p99.toFixed(1)
      } ms, max ${latency.max.toFixed(1)} ms (goal p95 <= 20 ms)`,
  );
  // Round trips per CreateTask, from the server's own count (pg_stat_statements).
  const [{ tasks }] = await servicePg<
    { tasks: number }[]
  >`SELECT count(*)::int AS tasks FROM tasks`;
  const statements = await servicePg<{ calls: number; query: string }[]>`
    SELECT s.calls::int AS calls, left(regexp_replace(s.query, '[[:space:]]+', ' ', 'g'), 70) AS query
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
    WHERE d.datname = 'freelance_platform' ORDER BY s.calls DESC LIMIT 6`;
  console.log(`\nstatements of the service's database per task created (${tasks} tasks):`);
  for (const { calls, query } of statements) {
    console.log(`  ${(calls / tasks).toFixed(3).padStart(7)}  ${query}`);
  }
  console.log(
    `\n${machineLoad()} at end; the machine is shared with other work, so figures move ` +
      `between runs: compare the ratios (median of ${rounds} rounds: ${
        median(ratioInsert).toFixed(3)
      }, ${median(ratioOwn).toFixed(3)}).`,
  );
} finally {
  await service?.stop();
  await nc.close().catch(() => {});
  await anchor.end({ timeout: 1 });
  await servicePg.end({ timeout: 1 });
  await Promise.all([pg.destroy(), nats.destroy()]);
  await Deno.remove(scripts, { recursive: true }).catch(() => {});
}
