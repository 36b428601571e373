/**
 * Matching benchmark: the real User Service and Orchestrator processes on throwaway PostgreSQL,
 * NATS JetStream and Redis (tests/harness), a seeded population and task.created events.
 *
 * - Developers: BENCH_DEVELOPERS (3000), 2-6 skills each from an 80-tag vocabulary with Zipf
 *   popularity (s = 1.1), log-normal hourly rates, seeded straight into the users table (thousands
 *   of registrations would benchmark the password KDF). BENCH_ONLINE (1200) of them go online
 *   through GoOnline and keep heartbeating (PRESENCE_TTL_SECONDS 60, a heartbeat every 20 s).
 * - Tasks: 1-3 required skills with the same Zipf law, budgets log-normal over two orders of
 *   magnitude, published as task.created at a given rate.
 *
 * It prints, in one run:
 * 1. at BENCH_RATE tasks/s (50) for BENCH_SECONDS (20): matches/s sustained, success rate
 *    (tasks with proposals after their first attempt) and task.created -> proposals stored
 *    p50/p95/p99;
 * 2. the ramp (BENCH_RAMP, tasks/s, BENCH_STEP_SECONDS each): achieved rate, success, p95 per
 *    step; the max sustainable rate is the highest step drained at >= 95% of its rate with
 *    success > 90% and p95 <= 1 s;
 * 3. the backlog ratio: bursts of BENCH_BURST (600) tasks drained with BENCH_BACKLOG (10,000)
 *    unmatched tasks waiting vs none, interleaved over BENCH_ROUNDS (3) rounds (order alternating),
 *    median of each side and their ratio. The waiting tasks are rows of match_tasks as the
 *    orchestrator leaves a task nobody can take (NO_CANDIDATES, its safety-net look 6-12 h away).
 *
 * Every step starts from the same state: the tasks and proposals of the earlier steps are deleted
 * (otherwise the fairness cap, 20 proposals per developer per hour, would exhaust the population
 * and the later steps would measure that). "Proposals stored" is the proposals' created_at, the
 * start of the attempt's transaction (a few ms before its commit).
 *
 * Run: `deno task bench:matching`;
 * BENCH_CPU_PROF=<dir> leaves a .cpuprofile of each service there; BENCH_ORCHESTRATOR_ENV='{"K":"V"}'
 * adds to the orchestrator's environment (such as MATCH_CONCURRENCY).
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { TaskCreatedSchema } from "@platform/proto/events/v1";
import { UserService } from "@platform/proto/users/v1";
import postgres from "postgres";
import { TokenService } from "@platform/lib/auth";
import { encodeEvent, ensurePlatformStreams, EVENTS } from "@platform/lib/events";
import { machineLoad, median, percentile } from "./bench_tools.ts";
import { NatsServer } from "../tests/harness/nats_server.ts";
import { seededRandom, zipfSkills } from "../tests/harness/seeded_corpus.ts";
import { PostgresServer } from "../tests/harness/postgres_server.ts";
import { freePort } from "../tests/harness/processes.ts";
import { RedisServer } from "../tests/harness/redis_server.ts";
import { rpcClient } from "../tests/harness/rpc_clients.ts";
import { ServiceProcess } from "../tests/harness/service_process.ts";
import { exitOnHelp, moduleDoc } from "@platform/lib/config";

exitOnHelp(moduleDoc(import.meta.url));

function setting(name: string, fallback: number): number {
  const flag = Deno.args.indexOf(`--${name.replace(/^BENCH_/, "").toLowerCase()}`);
  const raw = flag >= 0 ? Deno.args[flag + 1] : Deno.env.get(name);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0`);
  return value;
}

const DEVELOPERS = setting("BENCH_DEVELOPERS", 3000);
const ONLINE = setting("BENCH_ONLINE", 1200);
const RATE = setting("BENCH_RATE", 50);
const SECONDS = setting("BENCH_SECONDS", 20);
const STEP_SECONDS = setting("BENCH_STEP_SECONDS", 5);
const RAMP = (Deno.env.get("BENCH_RAMP") ?? "50,100,200,300,400,600").split(",").map(Number)
  .filter((r) => r > 0);
const BURST = setting("BENCH_BURST", 600);
const BACKLOG = setting("BENCH_BACKLOG", 10_000);
const ROUNDS = setting("BENCH_ROUNDS", 3);
const SEED = setting("BENCH_SEED", 42);
const SECRET = "bench-secret-that-is-long-enough-0123456789";

const random = seededRandom(SEED);
const VOCABULARY = Array.from({ length: 80 }, (_, i) => `skill${String(i).padStart(2, "0")}`);
const skills = zipfSkills(random, VOCABULARY, 1.1);
function logNormal(median: number, sigma: number): number {
  const u = Math.max(random(), 1e-9);
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.round(median * Math.exp(sigma * z));
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number, digits = 1) => Number.isFinite(n) ? n.toFixed(digits) : "n/a";

console.log(
  `matching bench: ${DEVELOPERS} developers (${ONLINE} online), rate ${RATE}/s for ${SECONDS}s, ` +
    `ramp ${
      RAMP.join(",")
    }, backlog ${BACKLOG}, burst ${BURST} x ${ROUNDS} rounds; ${machineLoad()}`,
);
const [pg, nats, redis] = await Promise.all([
  PostgresServer.start(),
  NatsServer.start(),
  RedisServer.start(),
]);
const databaseUrl = await pg.createDatabase("freelance_platform");
const common = {
  DATABASE_URL: databaseUrl,
  NATS_URL: nats.url,
  REDIS_URL: redis.url,
  JWT_SECRETS: SECRET,
  LOG_LEVEL: "warn",
};
const profileDir = Deno.env.get("BENCH_CPU_PROF");
const flags = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
const services: ServiceProcess[] = [];
let heartbeats: ReturnType<typeof setInterval> | undefined;
try {
  const usersPort = freePort();
  const users = await ServiceProcess.start(
    "users",
    {
      ...common,
      LOG_LEVEL: "info", // the harness waits for the "listening" line
      PORT: String(usersPort),
      PRESENCE_TTL_SECONDS: "60",
    },
    undefined,
    flags,
  );
  services.push(users);
  const sql = postgres(databaseUrl, { max: 4, onnotice: () => {} });

  // The population.
  const rows = Array.from({ length: DEVELOPERS }, (_, i) => ({
    email: `dev${i}@bench.example`,
    skills: JSON.stringify(skills(2, 6)),
    rate: Math.max(1000, logNormal(6000, 0.5)),
  }));
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    await sql`
      INSERT INTO users (email, password_hash, role, display_name, skill_tags, hourly_rate_minor,
                         rate_currency)
      SELECT e, 'x', 'developer', e, s::jsonb, r, 'USD'
      FROM unnest(${chunk.map((r) => r.email)}::text[], ${chunk.map((r) => r.skills)}::text[],
                  ${chunk.map((r) => r.rate)}::int8[]) AS t(e, s, r)`;
  }
  const ids = (await sql<{ id: string }[]>`
    SELECT id FROM users WHERE role = 'developer' ORDER BY random() LIMIT ${ONLINE}`).map((r) =>
    r.id
  );
  const tokens = new TokenService([SECRET], 3600);
  const clients = await Promise.all(ids.map(async (id) => {
    const { token } = await tokens.issue({ subject: id, role: "developer" });
    return rpcClient(
      UserService,
      users.url,
      { protocol: "connect", http: "1.1", binary: true },
      token,
    );
  }));
  const each = async (fn: (c: (typeof clients)[number]) => Promise<unknown>) => {
    for (let i = 0; i < clients.length; i += 32) {
      await Promise.all(clients.slice(i, i + 32).map(fn));
    }
  };

  const orchestrator = await ServiceProcess.start(
    "orchestrator",
    {
      ...common,
      LOG_LEVEL: "info",
      USERS_URL: `http://127.0.0.1:${usersPort}`,
      PROPOSALS_PER_TASK: "3",
      ...JSON.parse(Deno.env.get("BENCH_ORCHESTRATOR_ENV") ?? "{}"),
    },
    undefined,
    flags,
  );
  services.push(orchestrator);

  await each((c) => c.goOnline({}));
  heartbeats = setInterval(() => {
    each((c) => c.heartbeat({})).catch((error) => console.error("heartbeat failed", error));
  }, 20_000);
  const [{ online }] = await sql<{ online: number }[]>`
    SELECT count(*)::int AS online FROM users WHERE is_online AND online_until > now()`;
  console.log(`seeded ${DEVELOPERS} developers, ${online} online (GoOnline + heartbeats)`);

  const nc = await connect({ servers: nats.url.replace("nats://", "") });
  await ensurePlatformStreams(nc);
  const js = jetstream(nc);
  const clientId = crypto.randomUUID();

  /** Publishes `count` task.created at `rate` per second (0: at once); their ids. */
  const publish = async (count: number, rate: number): Promise<string[]> => {
    const taskIds: string[] = [];
    const acks: Promise<unknown>[] = [];
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      if (rate > 0) {
        const wait = started + (i * 1000) / rate - performance.now();
        if (wait > 0) await sleep(wait);
      }
      const taskId = crypto.randomUUID();
      taskIds.push(taskId);
      const eventId = crypto.randomUUID();
      const event = create(TaskCreatedSchema, {
        eventId,
        taskId,
        clientId,
        title: `bench task ${i}`,
        requiredSkills: skills(1, 3),
        budget: { currency: "USD", amountMinor: BigInt(logNormal(100_000, 1)) },
        occurredAt: timestampFromDate(new Date()),
      });
      acks.push(
        js.publish(EVENTS.taskCreated.subject, encodeEvent(TaskCreatedSchema, event), {
          msgID: eventId,
        }),
      );
      if (acks.length >= 256) await Promise.all(acks.splice(0));
    }
    await Promise.all(acks);
    return taskIds;
  };

  interface Outcome {
    tasks: number;
    matched: number;
    seconds: number;
    p50: number;
    p95: number;
    p99: number;
    complete: boolean;
  }
  /** Waits until every task had its first attempt (or `timeoutMs`), then measures. */
  const measure = async (taskIds: string[], startedAt: Date, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    let complete = false;
    while (Date.now() < deadline) {
      const [{ n }] = await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM match_tasks
        WHERE task_id = ANY(${taskIds}::uuid[]) AND attempts > 0`;
      if (n >= taskIds.length) {
        complete = true;
        break;
      }
      await sleep(100);
    }
    const results = await sql<{ latency_ms: number | null; done_ms: number | null }[]>`
      SELECT extract(epoch FROM (min(p.created_at) - m.task_created_at)) * 1000 AS latency_ms,
             extract(epoch FROM m.last_attempt_at) * 1000 AS done_ms
      FROM match_tasks m LEFT JOIN proposals p ON p.task_id = m.task_id
      WHERE m.task_id = ANY(${taskIds}::uuid[]) AND m.attempts > 0
      GROUP BY m.task_id`;
    const latencies = results.filter((r) => r.latency_ms !== null).map((r) => Number(r.latency_ms))
      .sort((a, b) => a - b);
    const lastDone = Math.max(...results.map((r) => Number(r.done_ms ?? 0)));
    const seconds = (lastDone - startedAt.getTime()) / 1000;
    return {
      tasks: taskIds.length,
      matched: latencies.length,
      seconds,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      complete,
    } satisfies Outcome;
  };
  /** The orchestrator's tables back to no task (keeps the developers' presence rows). */
  const reset = async () => {
    await sql`DELETE FROM proposals`;
    await sql`DELETE FROM match_task_terms`;
    await sql`DELETE FROM match_tasks`;
  };
  const run = async (count: number, rate: number) => {
    await reset();
    const startedAt = new Date();
    const taskIds = await publish(count, rate);
    return await measure(taskIds, startedAt);
  };

  // Warm-up (JIT, pools), not reported.
  await run(200, 100);

  // 1. The given rate.
  const steady = await run(Math.round(RATE * SECONDS), RATE);
  console.log(`\n=== at ${RATE} tasks/s for ${SECONDS} s (${steady.tasks} tasks) ===`);
  console.log(
    `matches/s sustained: ${fmt(steady.matched / steady.seconds)} ` +
      `(${steady.matched} tasks matched over ${fmt(steady.seconds)} s)`,
  );
  console.log(
    `success rate: ${fmt((100 * steady.matched) / steady.tasks)}% ` +
      `(${steady.matched}/${steady.tasks})${steady.complete ? "" : " (timed out)"}`,
  );
  console.log(
    `task.created -> proposals stored: p50 ${fmt(steady.p50)} ms, p95 ${fmt(steady.p95)} ms, ` +
      `p99 ${fmt(steady.p99)} ms`,
  );

  // 2. The ramp.
  console.log(`\n=== ramp (${STEP_SECONDS} s per step) ===`);
  let sustainable = 0;
  for (const rate of RAMP) {
    const step = await run(Math.round(rate * STEP_SECONDS), rate);
    const achieved = step.tasks / step.seconds;
    const success = step.matched / step.tasks;
    const ok = step.complete && achieved >= 0.95 * rate && success > 0.9 && step.p95 <= 1000;
    console.log(
      `offered ${rate}/s: drained ${fmt(achieved)} tasks/s, ${fmt(step.matched / step.seconds)} ` +
        `matches/s, success ${fmt(100 * success)}%, p50 ${fmt(step.p50)} ms, ` +
        `p95 ${fmt(step.p95)} ms, p99 ${fmt(step.p99)} ms ${ok ? "ok" : "NOT sustained"}`,
    );
    if (!ok) break;
    sustainable = rate;
  }
  console.log(`max sustainable rate: ${sustainable > 0 ? `${sustainable} tasks/s` : "none"}`);
  const burst = await run(BURST * 2, 0);
  console.log(
    `drain of ${burst.tasks} tasks published at once: ${fmt(burst.matched / burst.seconds)} ` +
      `matches/s, success ${fmt((100 * burst.matched) / burst.tasks)}%`,
  );

  // 3. The backlog ratio.
  console.log(`\n=== backlog: ${BACKLOG} unmatched tasks waiting vs none ===`);
  const seedBacklog = async () => {
    const ids = Array.from({ length: BACKLOG }, () => crypto.randomUUID());
    for (let i = 0; i < ids.length; i += 5000) {
      await sql`
        INSERT INTO match_tasks (task_id, client_id, title, required_skills, state, attempts,
                                 last_attempt_at, next_attempt_at, task_created_at)
        SELECT id, ${clientId}::uuid, 'waiting', '["unobtainium"]'::jsonb, 'NO_CANDIDATES', 1,
               now(), now() + make_interval(secs => 21600 * (1 + random())), now()
        FROM unnest(${ids.slice(i, i + 5000)}::uuid[]) AS t(id)`;
    }
  };
  const without: number[] = [];
  const withBacklog: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const backlog of round % 2 === 0 ? [false, true] : [true, false]) {
      await reset();
      if (backlog) await seedBacklog();
      const startedAt = new Date();
      const taskIds = await publish(BURST, 0);
      const outcome = await measure(taskIds, startedAt);
      const rate = outcome.matched / outcome.seconds;
      (backlog ? withBacklog : without).push(rate);
      console.log(
        `round ${round + 1}, ${backlog ? `${BACKLOG} waiting` : "none waiting"}: ${fmt(rate)} ` +
          `matches/s (success ${fmt((100 * outcome.matched) / outcome.tasks)}%)`,
      );
    }
  }
  const spread = (v: number[]) => `${fmt(Math.min(...v))}..${fmt(Math.max(...v))}`;
  console.log(
    `median: none ${fmt(median(without))} (${spread(without)}), with backlog ` +
      `${fmt(median(withBacklog))} (${spread(withBacklog)}) matches/s; ` +
      `backlog ratio ${fmt(median(withBacklog) / median(without), 2)}`,
  );
  console.log(`\nat the end: ${machineLoad()} (shared machine)`);
  await nc.close();
  await sql.end();
} finally {
  if (heartbeats !== undefined) clearInterval(heartbeats);
  for (const service of services.reverse()) await service.stop().catch(() => {});
  await Promise.allSettled([pg.destroy(), nats.destroy(), redis.stop()]);
}
