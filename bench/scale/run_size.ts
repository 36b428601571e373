/**
 * One size of the scale benchmark: a fresh database migrated by the services themselves, seeded
 * in SQL, the services restarted on it, then every probe timed and every probe's statements
 * explained.
 *
 * @module
 */
import { TokenService } from "@platform/lib/auth";
import postgres from "postgres";
import { percentile } from "../bench_tools.ts";
import type { PostgresServer } from "../../tests/harness/postgres_server.ts";
import { ServiceProcess } from "../../tests/harness/service_process.ts";
import { buildProbes } from "./probes.ts";
import { type PlatformSize, seedPlatform } from "./seed.ts";
import { StatementRecorder } from "./statement_recorder.ts";

/** The JWT secret the benchmark's services and tokens share. */
export const SCALE_SECRET = "scale-bench-secret-that-is-long-enough-0123456789";

/** What one probe measured at one size. */
export interface ProbeResult {
  name: string;
  kind: "rpc" | "sweep";
  samples: number;
  p50: number;
  p95: number;
  /** EXPLAIN (ANALYZE, BUFFERS) of each statement the probe's store call sent. */
  plans: string[];
  /**
   * Shared buffers (hit + read) the statements touched, from their plans' top nodes: the work
   * done, which a busy machine does not blur as it blurs latencies.
   */
  buffers: number;
}

/** The buffers of a plan's first (top) node: `Buffers: shared hit=12 read=3` is 15. */
export function topBuffers(plan: string): number {
  const line = /Buffers: shared ([^\n]*)/.exec(plan)?.[1] ?? "";
  const hit = Number(/hit=(\d+)/.exec(line)?.[1] ?? 0);
  const read = Number(/read=(\d+)/.exec(line)?.[1] ?? 0);
  return hit + read;
}

/** How a size is run. */
export interface SizeOptions {
  size: PlatformSize;
  /** Timed calls per probe (fewer when `probeSeconds` runs out first). */
  samples: number;
  /** Time budget of one probe's calls. */
  probeSeconds: number;
  /** Explain with sequential scans discouraged (a Seq Scan left means no index serves it). */
  seqscanOff?: boolean;
  /** Skip timing (plans only, as the CI test does). */
  plansOnly?: boolean;
  log: (line: string) => void;
}

/** The services' environment on this database. */
function serviceEnv(databaseUrl: string, natsUrl: string, redisUrl: string) {
  return {
    DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    REDIS_URL: redisUrl,
    JWT_SECRETS: SCALE_SECRET,
    LOG_LEVEL: "info",
    // Generous: a slow statement at a big size is a figure to print, not an error.
    DB_QUERY_TIMEOUT_MS: "60000",
  };
}

async function startServices(env: Record<string, string>): Promise<ServiceProcess[]> {
  const users = await ServiceProcess.start("users", env);
  const [tasks, orchestrator] = await Promise.all([
    ServiceProcess.start("tasks", env),
    ServiceProcess.start("orchestrator", { ...env, USERS_URL: users.url }),
  ]);
  return [users, tasks, orchestrator];
}

/**
 * Runs one size on `pg` (a database of its own, dropped afterwards) and returns each probe's
 * figures and plans.
 *
 * @example
 * ```ts
 * const results = await runSize(pg, nats.url, redis.url, { size, samples: 40, probeSeconds: 20, log });
 * ```
 */
export async function runSize(
  pg: PostgresServer,
  natsUrl: string,
  redisUrl: string,
  options: SizeOptions,
): Promise<ProbeResult[]> {
  const { size, log } = options;
  const name = `scale_${size.developers}_${size.tasks}`;
  const databaseUrl = await pg.createDatabase(name);
  const env = serviceEnv(databaseUrl, natsUrl, redisUrl);
  // The services migrate the empty database, then stop while it is seeded.
  for (const service of await startServices(env)) await service.stop();
  const seeding = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await seedPlatform(seeding, size, log);
  } finally {
    await seeding.end();
  }
  const services = await startServices(env);
  const recorder = new StatementRecorder(databaseUrl);
  try {
    const [users, tasks, orchestrator] = services;
    const probes = await buildProbes(
      recorder,
      new TokenService([SCALE_SECRET], 3600),
      { users: users.url, tasks: tasks.url, orchestrator: orchestrator.url },
    );
    const results: ProbeResult[] = [];
    for (const probe of probes) {
      const latencies: number[] = [];
      if (!options.plansOnly) {
        for (let i = 0; i < 3; i++) await probe.once(i); // warm-up: connections, caches
        const deadline = performance.now() + options.probeSeconds * 1000;
        for (let i = 0; i < options.samples && performance.now() < deadline; i++) {
          latencies.push(await probe.once(i));
        }
      }
      latencies.sort((a, b) => a - b);
      const statements = await recorder.record(() => probe.storeCall());
      const plans: string[] = [];
      for (const statement of statements) {
        if (
          /^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|SELECT set_config)/i.test(
            statement.query,
          )
        ) {
          continue;
        }
        plans.push(
          `${statement.query.trim()}\n${await recorder.explain(statement, options.seqscanOff)}`,
        );
      }
      results.push({
        name: probe.name,
        kind: probe.kind,
        samples: latencies.length,
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        plans,
        buffers: plans.reduce((sum, plan) => sum + topBuffers(plan.slice(plan.indexOf("\n"))), 0),
      });
      if (!options.plansOnly) {
        log(
          `  ${probe.name}: p50 ${percentile(latencies, 50).toFixed(2)} ms, p95 ${
            percentile(latencies, 95).toFixed(2)
          } ms (${latencies.length} calls), ${results.at(-1)!.buffers} buffers`,
        );
      }
    }
    return results;
  } finally {
    await recorder.close();
    for (const service of services) await service.stop();
    const admin = postgres(pg.url("postgres"), { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
    await admin.end();
  }
}
