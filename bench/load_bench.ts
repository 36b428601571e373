/**
 * `deno task bench:load`: the platform under a constant arrival rate. Each request fires on its
 * schedule whether or not earlier ones have answered, and its latency counts from the scheduled
 * time, so a slow server cannot hide behind fewer requests (no coordinated omission).
 *
 * Starts throwaway PostgreSQL, Redis and NATS (test harness) and the three services as real
 * processes; seeds USERS accounts (four developers for each client, developers online with
 * skills, the same password hash for all) straight into the users table, and tasks through
 * CreateTask; then sends a mix of GetUser (45%), Heartbeat (20%), ListTasks (20%),
 * SearchDevelopers (10%) and CreateTask (5%) over Connect JSON at RATE requests per second for
 * SECONDS, after a short warm-up that is not counted. Then 64 logins at once.
 *
 * Prints, per RPC, requests, errors and p50/p95/p99/max latency; how late the generator itself
 * fired; and each service's resident memory (sampled every 100 ms, and the kernel's high-water
 * mark), during the load and after the login burst.
 *
 * Options: `--rate 500 --seconds 60 --users 1000 --warmup 5` (or BENCH_RATE, BENCH_SECONDS,
 * BENCH_USERS); BENCH_PROFILE=users (tasks, orchestrator) saves a CPU profile of that service
 * taken during the load.
 *
 * @module
 */
import postgres from "postgres";
import { hashPassword, TokenService } from "@platform/lib/auth";
import { NatsServer } from "../tests/harness/nats_server.ts";
import { PostgresServer } from "../tests/harness/postgres_server.ts";
import { RedisServer } from "../tests/harness/redis_server.ts";
import { ServiceProcess } from "../tests/harness/service_process.ts";
import { machineLoad, percentile } from "./bench_tools.ts";
import { exitOnHelp, moduleDoc } from "@platform/lib/config";

exitOnHelp(moduleDoc(import.meta.url));

/** Resident memory of each service process, from /proc (what the kernel charges). */
class MemorySampler {
  private peaks = new Map<string, number>();
  private timer?: ReturnType<typeof setInterval>;

  constructor(private readonly processes: Record<string, ServiceProcess>) {}

  start(): void {
    this.timer = setInterval(() => this.sample(), 100);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  reset(): void {
    this.peaks.clear();
  }

  snapshot(): Record<string, { peak: number; now: number; hwm: number }> {
    this.sample();
    return Object.fromEntries(
      Object.keys(this.processes).map((name) => {
        const status = this.status(name);
        return [name, {
          peak: this.peaks.get(name) ?? NaN,
          now: status.rss,
          hwm: status.hwm,
        }];
      }),
    );
  }

  private sample(): void {
    for (const name of Object.keys(this.processes)) {
      const { rss } = this.status(name);
      this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, rss));
    }
  }

  private status(name: string): { rss: number; hwm: number } {
    try {
      const text = Deno.readTextFileSync(`/proc/${this.processes[name].process.child.pid}/status`);
      const kb = (field: string) =>
        Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN);
      return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
    } catch {
      return { rss: NaN, hwm: NaN };
    }
  }
}

const args = parseArgs(Deno.args);
const rate = args.rate ?? Number(Deno.env.get("BENCH_RATE") ?? 500);
const seconds = args.seconds ?? Number(Deno.env.get("BENCH_SECONDS") ?? 60);
const userCount = args.users ?? Number(Deno.env.get("BENCH_USERS") ?? 1000);
const warmupSeconds = args.warmup ?? 5;
const SECRET = "load-bench-secret-0123456789-abcdefghijkl";
const PASSWORD = "load bench password";
const SKILLS = ["go", "rust", "typescript", "postgresql", "react", "kubernetes", "python", "java"];

const MIX: Array<{ rpc: Rpc; weight: number }> = [
  { rpc: "GetUser", weight: 45 },
  { rpc: "Heartbeat", weight: 20 },
  { rpc: "ListTasks", weight: 20 },
  { rpc: "SearchDevelopers", weight: 10 },
  { rpc: "CreateTask", weight: 5 },
];
type Rpc = "GetUser" | "Heartbeat" | "ListTasks" | "SearchDevelopers" | "CreateTask";
const READS: Rpc[] = ["GetUser", "ListTasks", "SearchDevelopers"];

console.log(
  `bench:load: ${rate} req/s for ${seconds} s (+${warmupSeconds} s warm-up), ${userCount} users; ` +
    `${machineLoad()} before the run`,
);

const [pg, redis, nats] = await Promise.all([
  PostgresServer.start(),
  RedisServer.start(),
  NatsServer.start(),
]);
const databaseUrl = await pg.createDatabase("freelance_platform");
const env = {
  DATABASE_URL: databaseUrl,
  REDIS_URL: redis.url,
  NATS_URL: nats.url,
  JWT_SECRETS: SECRET,
  LOG_LEVEL: "info",
};
const users = await ServiceProcess.start("users", env);
const [tasks, orchestrator] = await Promise.all([
  ServiceProcess.start("tasks", env),
  ServiceProcess.start("orchestrator", { ...env, USERS_URL: users.url }),
]);
const services = { users, tasks, orchestrator };
const sql = postgres(databaseUrl, { max: 4, onnotice: () => {} });

try {
  const { developers, clients } = await seed();
  const memory = new MemorySampler(services);
  memory.start();

  const url: Record<Rpc, string> = {
    GetUser: `${users.url}/platform.users.v1.UserService/GetUser`,
    Heartbeat: `${users.url}/platform.users.v1.UserService/Heartbeat`,
    SearchDevelopers: `${users.url}/platform.users.v1.UserService/SearchDevelopers`,
    ListTasks: `${tasks.url}/platform.tasks.v1.TaskService/ListTasks`,
    CreateTask: `${tasks.url}/platform.tasks.v1.TaskService/CreateTask`,
  };
  const everyone = [...developers, ...clients];
  const turn: Record<Rpc, number> = {
    GetUser: 0,
    Heartbeat: 0,
    SearchDevelopers: 0,
    ListTasks: 0,
    CreateTask: 0,
  };
  const request = (rpc: Rpc): { token: string; body: string } => {
    const n = turn[rpc]++;
    switch (rpc) {
      case "GetUser": {
        const me = everyone[n % everyone.length];
        const other = everyone[(n * 7919) % everyone.length];
        return { token: me.token, body: JSON.stringify({ user_id: other.id }) };
      }
      case "Heartbeat":
        return { token: developers[n % developers.length].token, body: "{}" };
      case "SearchDevelopers":
        return {
          token: everyone[n % everyone.length].token,
          body: JSON.stringify({
            skill_tags: [SKILLS[n % SKILLS.length]],
            online_only: n % 2 === 0,
            page_size: 20,
          }),
        };
      case "ListTasks":
        return {
          token: everyone[n % everyone.length].token,
          body: JSON.stringify({ status: "TASK_STATUS_OPEN", page_size: 20 }),
        };
      case "CreateTask":
        return {
          token: clients[n % clients.length].token,
          body: JSON.stringify({
            title: `load task ${n}`,
            description: "made by bench:load",
            required_skills: [SKILLS[n % SKILLS.length], SKILLS[(n + 3) % SKILLS.length]],
            budget: { currency: "USD", amount_minor: "250000" },
          }),
        };
    }
  };
  const wheel = MIX.flatMap(({ rpc, weight }) => Array<Rpc>(weight).fill(rpc));

  const stats = new Map<Rpc, { latencies: number[]; errors: number; examples: Set<string> }>(
    MIX.map(({ rpc }) => [rpc, { latencies: [], errors: 0, examples: new Set() }]),
  );
  let measuring = false;
  let inFlight = 0;
  const lateness: number[] = [];
  const fire = async (i: number, scheduled: number) => {
    const rpc = wheel[(i * 37) % wheel.length];
    const { token, body } = request(rpc);
    const counted = measuring;
    const entry = stats.get(rpc)!;
    inFlight++;
    try {
      const res = await fetch(url[rpc], {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body,
      });
      const text = await res.text();
      if (counted && res.status !== 200) {
        entry.errors++;
        if (entry.examples.size < 3) entry.examples.add(`${res.status} ${text.slice(0, 160)}`);
      }
    } catch (error) {
      if (counted) {
        entry.errors++;
        if (entry.examples.size < 3) entry.examples.add(String(error).slice(0, 160));
      }
    } finally {
      inFlight--;
    }
    if (counted) entry.latencies.push(performance.now() - scheduled);
  };

  // The schedule: request i at start + i / rate, fired by a 1 ms tick.
  const interval = 1000 / rate;
  const run = async (durationSeconds: number) => {
    const start = performance.now();
    const end = start + durationSeconds * 1000;
    let next = start;
    let i = 0;
    while (next < end) {
      const now = performance.now();
      while (next <= now && next < end) {
        if (measuring) lateness.push(now - next);
        void fire(i++, next);
        next += interval;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  await run(warmupSeconds);
  measuring = true;
  const started = performance.now();
  const profiled = Deno.env.get("BENCH_PROFILE") as keyof typeof services | undefined;
  const profile = profiled
    ? (async () => {
      const admin = (await new TokenService([SECRET], 600).issue({ subject: "b", role: "admin" }))
        .token;
      const res = await fetch(
        `${services[profiled].url}/debug/profile?seconds=${Math.min(10, seconds)}`,
        { headers: { authorization: `Bearer ${admin}` } },
      );
      const file = `/tmp/bench-load-${profiled}.cpuprofile`;
      await Deno.writeTextFile(file, await res.text());
      return file;
    })()
    : undefined;
  await run(seconds);
  if (profile) console.log(`CPU profile of ${profiled}: ${await profile}`);
  const elapsed = (performance.now() - started) / 1000;
  measuring = false;
  const duringLoad = memory.snapshot();

  // 64 logins at once.
  const burstStart = performance.now();
  const logins = await Promise.all(
    everyone.slice(0, 64).map((who) =>
      fetch(`${users.url}/platform.users.v1.UserService/Login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: who.email, password: PASSWORD }),
      }).then(async (res) => res.status === 200 && "accessToken" in await res.json())
    ),
  );
  const burstMs = performance.now() - burstStart;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const afterBurst = memory.snapshot();
  memory.stop();
  const admin = (await new TokenService([SECRET], 600).issue({ subject: "bench", role: "admin" }))
    .token;
  // What the User Service served besides the generator's calls (the orchestrator's matching).
  const usersMetrics = await fetch(`${users.url}/metrics`).then((r) => r.text());
  const streamed = Number(
    /grpc_server_msg_sent_total\{[^}]*grpc_method="ListOnlineDevelopers"\} (\S+)/.exec(usersMetrics)
      ?.[1] ?? 0,
  );
  const streams = [...usersMetrics.matchAll(
    /grpc_server_handled_total\{[^}]*grpc_method="ListOnlineDevelopers"[^}]*\} (\S+)/g,
  )].reduce((n, m) => n + Number(m[1]), 0);
  const heaps: Record<string, string> = {};
  const snapshotOf = Deno.env.get("BENCH_HEAP_SNAPSHOT") as keyof typeof services | undefined;
  if (snapshotOf) {
    const res = await fetch(`${services[snapshotOf].url}/debug/heap`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    await Deno.writeTextFile(`/tmp/bench-load-${snapshotOf}.heapsnapshot`, await res.text());
  }
  for (const [name, service] of Object.entries(services)) {
    const { memory: m } = await fetch(`${service.url}/debug/memory`, {
      headers: { authorization: `Bearer ${admin}` },
    }).then((r) => r.json());
    const mb = (v: number) => (v / 1048576).toFixed(0);
    heaps[name] = `V8 heap used ${mb(m.heapUsed)} of ${mb(m.heapTotal)}, external ${
      mb(m.external)
    }`;
  }

  report(stats, lateness, elapsed, duringLoad, afterBurst, {
    failed: logins.filter((ok) => !ok).length,
    ms: burstMs,
  });
  console.log(
    `the orchestrator's matching asked the User Service for ${streams} ListOnlineDevelopers ` +
      `streams (${streamed} developers sent) during the run`,
  );
  console.log("memory the runtime reports at the end (MB):");
  for (const [name, line] of Object.entries(heaps)) console.log(`  ${name.padEnd(13)} ${line}`);
} finally {
  await sql.end({ timeout: 1 }).catch(() => {});
  await Promise.all(Object.values(services).map((s) => s.stop()));
  await Promise.all([redis.stop(), nats.destroy()]);
  await pg.destroy();
}

interface Account {
  id: string;
  email: string;
  token: string;
}

async function seed(): Promise<{ developers: Account[]; clients: Account[] }> {
  const hash = await hashPassword(PASSWORD);
  const tokens = new TokenService([SECRET], 24 * 3600);
  const rows = Array.from({ length: userCount }, (_, i) => {
    const developer = i % 5 !== 4;
    return {
      email: `load${i}@example.com`,
      password_hash: hash,
      role: developer ? "developer" : "client",
      display_name: `Load ${developer ? "developer" : "client"} ${i}`,
      bio: developer ? `Developer number ${i}, available for work.` : "",
      skill_tags: sql.json(
        developer ? [SKILLS[i % SKILLS.length], SKILLS[(i * 3 + 1) % SKILLS.length]].sort() : [],
      ),
      hourly_rate_minor: developer ? 4000 + (i % 50) * 100 : null,
      rate_currency: developer ? "USD" : null,
      is_online: developer,
      online_until: developer ? new Date(Date.now() + 3600_000) : null,
      last_seen_at: developer ? new Date() : null,
    };
  });
  const inserted: Array<{ id: string; email: string; role: string }> = [];
  for (let i = 0; i < rows.length; i += 500) {
    inserted.push(
      ...await sql<Array<{ id: string; email: string; role: string }>>`
        INSERT INTO users ${sql(rows.slice(i, i + 500))} RETURNING id, email, role`,
    );
  }
  const accounts = await Promise.all(inserted.map(async (row) => ({
    id: row.id,
    email: row.email,
    role: row.role,
    token: (await tokens.issue({
      subject: row.id,
      role: row.role as "developer" | "client",
    })).token,
  })));
  const developers = accounts.filter((a) => a.role === "developer");
  const clients = accounts.filter((a) => a.role === "client");
  // Some open tasks to list, made through the service (outbox, events, matching).
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${tasks.url}/platform.tasks.v1.TaskService/CreateTask`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${clients[i % clients.length].token}`,
      },
      body: JSON.stringify({
        title: `seeded task ${i}`,
        required_skills: [SKILLS[i % SKILLS.length]],
        budget: { currency: "USD", amount_minor: "100000" },
      }),
    });
    if (res.status !== 200) throw new Error(`seeding CreateTask: ${await res.text()}`);
  }
  return { developers, clients };
}

function report(
  stats: Map<Rpc, { latencies: number[]; errors: number; examples: Set<string> }>,
  lateness: number[],
  elapsed: number,
  duringLoad: Record<string, { peak: number; now: number; hwm: number }>,
  afterBurst: Record<string, { peak: number; now: number; hwm: number }>,
  burst: { failed: number; ms: number },
): void {
  const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)}`;
  const rows = [["rpc", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms"]];
  const all: number[] = [];
  let errors = 0;
  for (const [rpc, s] of stats) {
    const sorted = [...s.latencies].sort((a, b) => a - b);
    all.push(...sorted);
    errors += s.errors;
    rows.push([
      rpc + (READS.includes(rpc) ? " (read)" : ""),
      String(sorted.length),
      String(s.errors),
      ms(percentile(sorted, 50)),
      ms(percentile(sorted, 95)),
      ms(percentile(sorted, 99)),
      ms(sorted[sorted.length - 1] ?? NaN),
    ]);
  }
  all.sort((a, b) => a - b);
  rows.push([
    "all",
    String(all.length),
    String(errors),
    ms(percentile(all, 50)),
    ms(percentile(all, 95)),
    ms(percentile(all, 99)),
    ms(all[all.length - 1] ?? NaN),
  ]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(
    `\n${all.length} requests in ${elapsed.toFixed(1)} s (${(all.length / elapsed).toFixed(0)}` +
      ` req/s, asked ${rate}); latency from the scheduled time`,
  );
  for (const row of rows) {
    console.log(
      "  " + row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "),
    );
  }
  for (const [rpc, s] of stats) {
    for (const example of s.examples) console.log(`  ${rpc} error: ${example}`);
  }
  const late = [...lateness].sort((a, b) => a - b);
  console.log(
    `  generator fired late by p50 ${ms(percentile(late, 50))} ms, p99 ${
      ms(percentile(late, 99))
    } ms, max ${ms(late[late.length - 1] ?? NaN)} ms (included in the latencies)`,
  );
  console.log(
    "\nresident memory per service (MB): peak sampled during the load / now / kernel high-water mark",
  );
  for (const [name, m] of Object.entries(duringLoad)) {
    console.log(
      `  ${name.padEnd(13)} ${m.peak.toFixed(0)} / ${m.now.toFixed(0)} / ${m.hwm.toFixed(0)}`,
    );
  }
  console.log(
    `after 64 concurrent logins (${(burst.ms / 1000).toFixed(1)} s, ${burst.failed} failed), ` +
      "peak sampled / 1 s later / high-water mark (MB):",
  );
  for (const [name, m] of Object.entries(afterBurst)) {
    console.log(
      `  ${name.padEnd(13)} ${m.peak.toFixed(0)} / ${m.now.toFixed(0)} / ${m.hwm.toFixed(0)}`,
    );
  }
  const peakAll = Math.max(...Object.values(afterBurst).map((m) => m.peak));
  console.log(
    `\ngoal: RSS <= 120 MB per service: ${peakAll <= 120 ? "met" : "MISSED"} (peak ${
      peakAll.toFixed(0)
    } MB)`,
  );
  console.log(`${machineLoad()} after the run`);
}

function parseArgs(
  argv: string[],
): Partial<Record<"rate" | "seconds" | "users" | "warmup", number>> {
  const out: Partial<Record<"rate" | "seconds" | "users" | "warmup", number>> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!["rate", "seconds", "users", "warmup"].includes(key)) {
      throw new Error(`unknown option ${argv[i]}: use --rate, --seconds, --users, --warmup`);
    }
    out[key as "rate"] = Number(argv[i + 1]);
  }
  return out;
}
