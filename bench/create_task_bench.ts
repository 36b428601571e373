/**
 * CreateTask throughput and latency of the Task Service beside `pgbench` single-row inserts at
 * the same concurrency against the same PostgreSQL, in the same run.
 *
 * Starts throwaway PostgreSQL and NATS (test harness) and the service as a real process; drives
 * CreateTask over Connect JSON (HTTP/1.1 keep-alive, fetch) from C concurrent loops for N seconds;
 * then runs `pgbench -n -f insert.sql -c C -j 2 -T N` inserting one row per transaction.
 * Each CreateTask is one transaction of three inserts (task, history row, outbox event), plus
 * JWT verification and the relay publishing the event to JetStream in the background.
 *
 * Run: `./deno run -A bench/create_task_bench.ts` (BENCH_SECONDS=10, BENCH_CONCURRENCY=16).
 *
 * @module
 */
import postgres from "postgres";
import { TokenService } from "@platform/lib/auth";
import { NatsServer } from "../tests/harness/nats_server.ts";
import { PostgresServer } from "../tests/harness/postgres_server.ts";
import { hasCommand } from "../tests/harness/processes.ts";
import { ServiceProcess } from "../tests/harness/service_process.ts";

const seconds = Number(Deno.env.get("BENCH_SECONDS") ?? 10);
const concurrency = Number(Deno.env.get("BENCH_CONCURRENCY") ?? 16);
const secret = "bench-secret-that-is-long-enough-0123456789";

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const [pg, nats] = await Promise.all([PostgresServer.start(), NatsServer.start()]);
const databaseUrl = await pg.createDatabase("freelance_platform");
const service = await ServiceProcess.start("tasks", {
  DATABASE_URL: databaseUrl,
  NATS_URL: nats.url,
  JWT_SECRETS: secret,
});
try {
  const { token } = await new TokenService([secret], 3600).issue({
    subject: crypto.randomUUID(),
    role: "client",
  });
  const url = `${service.url}/platform.tasks.v1.TaskService/CreateTask`;
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
  const call = async (i: number) => {
    const res = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify({
        title: `bench task ${i}`,
        description: "created by the benchmark",
        required_skills: ["go", "postgres"],
        budget: { currency: "USD", amount_minor: "150000" },
      }),
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`CreateTask answered ${res.status}`);
  };
  for (let i = 0; i < 200; i++) await call(i); // warm-up

  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await call(n++);
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const rps = latencies.length / elapsed;

  // Let the relay drain, and check it kept up.
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  let backlog = 0;
  const drainStart = performance.now();
  for (let i = 0; i < 100; i++) {
    [{ backlog }] = await sql<{ backlog: number }[]>`
      SELECT count(*)::int AS backlog FROM task_outbox WHERE published_at IS NULL`;
    if (backlog === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const drainSeconds = (performance.now() - drainStart) / 1000;
  await sql`CREATE TABLE IF NOT EXISTS bench_inserts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), title text NOT NULL,
    budget_minor bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`;
  await sql.end();

  console.log(`CreateTask (Connect JSON, HTTP/1.1, concurrency ${concurrency}, ${seconds}s):`);
  console.log(
    `  ${rps.toFixed(0)} req/s, ${latencies.length} ok, ${errors} errors; latency ms ` +
      `p50 ${percentile(latencies, 50).toFixed(2)} p95 ${percentile(latencies, 95).toFixed(2)} ` +
      `p99 ${percentile(latencies, 99).toFixed(2)}`,
  );
  console.log(
    `  outbox after the run: ${backlog} unpublished (drained in ${drainSeconds.toFixed(1)}s)`,
  );

  if (!hasCommand("pgbench")) {
    console.log("pgbench is not installed: skipped the single-row insert baseline");
  } else {
    const script = await Deno.makeTempFile({ suffix: ".sql" });
    await Deno.writeTextFile(
      script,
      "INSERT INTO bench_inserts (title, budget_minor) VALUES ('bench row', 150000);\n",
    );
    const pgUrl = new URL(databaseUrl);
    const out = await new Deno.Command("pgbench", {
      args: [
        "-h",
        pgUrl.hostname,
        "-p",
        pgUrl.port,
        "-U",
        "postgres",
        "-n",
        "-f",
        script,
        "-c",
        String(concurrency),
        "-j",
        "2",
        "-T",
        String(seconds),
        "freelance_platform",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const tps = /tps = ([\d.]+)/.exec(text)?.[1];
    const lat = /latency average = ([\d.]+) ms/.exec(text)?.[1];
    console.log(`pgbench single-row INSERT (concurrency ${concurrency}, -j 2, ${seconds}s):`);
    console.log(`  ${Number(tps).toFixed(0)} tps, latency average ${lat} ms`);
    if (!out.success) console.log(new TextDecoder().decode(out.stderr));
    await Deno.remove(script);
    console.log(
      `ratio: CreateTask is ${(rps / Number(tps) * 100).toFixed(0)}% of pgbench's inserts/s ` +
        "(the harness PostgreSQL runs with fsync=off, synchronous_commit=off)",
    );
  }
} finally {
  await service.stop();
  await Promise.all([pg.destroy(), nats.destroy()]);
}
