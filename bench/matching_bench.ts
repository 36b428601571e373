/**
 * Matching benchmark: a synthetic but realistic population against the real User Service and
 * Orchestrator processes, on throwaway PostgreSQL, NATS JetStream and Redis.
 *
 * - Developers: `--developers` (default 3000), 2-6 skills each from a 80-tag vocabulary with Zipf
 *   popularity (s = 1.1), `--online` share online (default 0.4), log-normal hourly rates. They are
 *   seeded straight into the users table (registering thousands through the password KDF would
 *   benchmark the KDF).
 * - Tasks: `--tasks` (default 600) task.created events, 1-3 required skills drawn with the same
 *   Zipf law, budgets spread over two orders of magnitude, published at `--rate` per second
 *   (default 10; 0 publishes them all at once to measure the maximum drain rate).
 *
 * Prints the matching success rate (tasks with at least one proposal after their first attempt),
 * matches per second sustained (first attempts completed / the time from the first publish to the
 * last proposals stored), and p50/p95/p99 of task.created -> proposals stored.
 *
 * Run: `./deno run -A bench/matching_bench.ts --developers 3000 --tasks 600 --rate 10`
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { TaskCreatedSchema } from "@platform/proto/events/v1";
import postgres from "postgres";
import { encodeEvent, ensurePlatformStreams, EVENTS } from "@platform/lib/events";
import { NatsServer } from "../tests/harness/nats_server.ts";
import { PostgresServer } from "../tests/harness/postgres_server.ts";
import { freePort, waitUntil } from "../tests/harness/processes.ts";
import { RedisServer } from "../tests/harness/redis_server.ts";
import { ServiceProcess } from "../tests/harness/service_process.ts";

function arg(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}

const DEVELOPERS = arg("developers", 3000);
const TASKS = arg("tasks", 600);
const RATE = arg("rate", 10);
const ONLINE = arg("online", 0.4);
const SEED = arg("seed", 42);
const SECRET = "bench-secret-that-is-long-enough-0123456789";

// Deterministic PRNG (mulberry32).
let state = SEED >>> 0;
function random(): number {
  state = (state + 0x6D2B79F5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const VOCABULARY = Array.from({ length: 80 }, (_, i) => `skill${String(i).padStart(2, "0")}`);
const zipfWeights = VOCABULARY.map((_, i) => 1 / (i + 1) ** 1.1);
const zipfTotal = zipfWeights.reduce((a, b) => a + b, 0);
function zipfSkill(): string {
  let r = random() * zipfTotal;
  for (let i = 0; i < VOCABULARY.length; i++) {
    r -= zipfWeights[i];
    if (r <= 0) return VOCABULARY[i];
  }
  return VOCABULARY[VOCABULARY.length - 1];
}
function skills(min: number, max: number): string[] {
  const n = min + Math.floor(random() * (max - min + 1));
  const set = new Set<string>();
  while (set.size < n) set.add(zipfSkill());
  return [...set].sort();
}
function logNormal(median: number, sigma: number): number {
  const u = Math.max(random(), 1e-9);
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.round(median * Math.exp(sigma * z));
}
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

console.log(`starting servers (developers=${DEVELOPERS}, tasks=${TASKS}, rate=${RATE}/s)...`);
const [pg, nats, redis] = await Promise.all([
  PostgresServer.start(),
  NatsServer.start(),
  RedisServer.start(),
]);
const databaseUrl = await pg.createDatabase("freelance_platform");
const usersPort = freePort();
const common = {
  DATABASE_URL: databaseUrl,
  NATS_URL: nats.url,
  REDIS_URL: redis.url,
  JWT_SECRETS: SECRET,
  LOG_LEVEL: "info",
};
const services: ServiceProcess[] = [];
const profileDir = Deno.env.get("BENCH_CPU_PROF");
const flags = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
try {
  const users = await ServiceProcess.start(
    "users",
    {
      ...common,
      PORT: String(usersPort),
      LOG_LEVEL: "info",
      PRESENCE_TTL_SECONDS: "3600",
    },
    undefined,
    flags,
  );
  services.push(users);
  const sql = postgres(databaseUrl, { max: 4, onnotice: () => {} });

  // Seed the population.
  const rows = Array.from({ length: DEVELOPERS }, (_, i) => ({
    email: `dev${i}@bench.example`,
    skills: JSON.stringify(skills(2, 6)),
    rate: Math.max(1000, logNormal(6000, 0.5)),
    online: random() < ONLINE,
  }));
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    await sql`
      INSERT INTO users (email, password_hash, role, display_name, skill_tags, hourly_rate_minor,
                         rate_currency, is_online, online_until, last_seen_at)
      SELECT e, 'x', 'developer', e, s::jsonb, r, 'USD', o::bool,
             CASE WHEN o::bool THEN now() + interval '1 hour' END, now()
      FROM unnest(${chunk.map((r) => r.email)}::text[], ${chunk.map((r) => r.skills)}::text[],
                  ${chunk.map((r) => r.rate)}::int8[], ${
      chunk.map((r) => String(r.online))
    }::text[])
        AS t(e, s, r, o)`;
  }
  const online = rows.filter((r) => r.online).length;
  console.log(`seeded ${DEVELOPERS} developers, ${online} online`);

  const orchestrator = await ServiceProcess.start(
    "orchestrator",
    {
      ...common,
      LOG_LEVEL: "info", // the harness waits for the "listening" line
      USERS_URL: `http://127.0.0.1:${usersPort}`,
      PROPOSALS_PER_TASK: "3",
      RETRY_INTERVAL_SECONDS: "3600", // the benchmark measures first attempts only
    },
    undefined,
    flags,
  );
  services.push(orchestrator);

  const nc = await connect({ servers: nats.url.replace("nats://", "") });
  await ensurePlatformStreams(nc);
  const js = jetstream(nc);
  const clientId = crypto.randomUUID();
  const taskIds: string[] = [];
  const started = Date.now();
  const publishes: Promise<unknown>[] = [];
  for (let i = 0; i < TASKS; i++) {
    if (RATE > 0) {
      const due = started + (i * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
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
    publishes.push(
      js.publish(EVENTS.taskCreated.subject, encodeEvent(TaskCreatedSchema, event), {
        msgID: eventId,
      }),
    );
  }
  await Promise.all(publishes);
  const published = Date.now();
  console.log(`published ${TASKS} task.created in ${((published - started) / 1000).toFixed(1)}s`);

  await waitUntil(
    async () => {
      const [row] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM match_tasks
      WHERE task_id = ANY(${taskIds}::uuid[]) AND attempts > 0`;
      if (row.n < TASKS) throw new Error(`${row.n}/${TASKS} attempted`);
    },
    600_000,
    "all tasks attempted",
  );

  const results = await sql<
    { task_id: string; state: string; latency_ms: number | null; done_ms: number }[]
  >`
    SELECT m.task_id, m.state,
           extract(epoch FROM (min(p.created_at) - m.task_created_at)) * 1000 AS latency_ms,
           extract(epoch FROM m.last_attempt_at) * 1000 AS done_ms
    FROM match_tasks m LEFT JOIN proposals p ON p.task_id = m.task_id
    WHERE m.task_id = ANY(${taskIds}::uuid[])
    GROUP BY m.task_id`;
  const matched = results.filter((r) => r.latency_ms !== null);
  const latencies = matched.map((r) => Number(r.latency_ms)).sort((a, b) => a - b);
  const lastDone = Math.max(...results.map((r) => Number(r.done_ms)));
  const seconds = (lastDone - started) / 1000;
  const [{ proposals }] = await sql<{ proposals: number }[]>`
    SELECT count(*)::int AS proposals FROM proposals WHERE task_id = ANY(${taskIds}::uuid[])`;
  const [{ developers }] = await sql<{ developers: number }[]>`
    SELECT count(DISTINCT developer_id)::int AS developers FROM proposals`;
  const metrics = await (await fetch(`${orchestrator.url}/metrics`)).text();
  const metric = (name: string) =>
    Number(metrics.split("\n").find((l) => l.startsWith(`${name} `))?.split(" ")[1] ?? NaN);

  console.log("\n=== matching benchmark ===");
  console.log(
    `developers: ${DEVELOPERS} (${online} online), skills: ${VOCABULARY.length} (Zipf 1.1)`,
  );
  console.log(`tasks: ${TASKS} at ${RATE > 0 ? `${RATE}/s` : "burst"}`);
  console.log(
    `matching success rate: ${(100 * matched.length / TASKS).toFixed(1)}% ` +
      `(${matched.length}/${TASKS}; metrics: ${metric("matches_successful_total")}/${
        metric("matches_attempted_total")
      })`,
  );
  console.log(
    `throughput: ${(TASKS / seconds).toFixed(1)} matches/s sustained ` +
      `(${(60 * TASKS / seconds).toFixed(0)}/min) over ${seconds.toFixed(1)}s`,
  );
  console.log(
    `task.created -> proposals stored: p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
      `p95 ${percentile(latencies, 95).toFixed(1)} ms, p99 ${
        percentile(latencies, 99).toFixed(1)
      } ms, ` +
      `max ${latencies[latencies.length - 1]?.toFixed(1)} ms`,
  );
  console.log(`proposals: ${proposals} to ${developers} distinct developers`);
  await nc.close();
  await sql.end();
} finally {
  for (const service of services.reverse()) await service.stop().catch(() => {});
  await Promise.allSettled([pg.destroy(), nats.destroy(), redis.stop()]);
}
