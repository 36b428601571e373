/**
 * The PostgreSQL restart loop of issue 15: under load, PostgreSQL is stopped (`pg_ctl stop -m
 * fast`, then `-m immediate`, alternately), kept down a moment while `/health` is polled, and
 * started again. Each round must end with no service process exited and every replica healthy
 * within 5 s of PostgreSQL's return, and `/health` must have said "unhealthy" during the outage.
 *
 * As a program: `deno task chaos:pg-restart [--rounds 12] [--replicas 1] [--rate 20]
 * [--developers 40] [--down-ms 2000]`; exits 1 when a round missed the bar.
 *
 * @module
 */
import { exitOnHelp, moduleDoc } from "@platform/lib/config";
import { ChaosPlatform } from "./platform.ts";
import { SteadyLoad } from "./load.ts";

/** What one round measured. */
export interface RestartRound {
  round: number;
  mode: "fast" | "immediate";
  /** Seconds from PostgreSQL accepting connections again to every replica healthy. */
  recoverySeconds: number;
  /** Replicas that reported the database unhealthy (503) while it was down. */
  sawUnhealthy: number;
  replicas: number;
  /** Service processes that exited during the round. */
  exits: number;
  /** CreateTask calls acknowledged during the round. */
  acknowledged: number;
}

/** Settings of the loop. */
export interface RestartLoopOptions {
  rounds: number;
  /** How long PostgreSQL stays down. */
  downMs: number;
  /** The longest wait for recovery before the round is counted failed. */
  recoveryTimeoutMs?: number;
}

/**
 * Runs the rounds on a running platform under load; modes alternate fast, immediate, ...
 *
 * @example
 * ```ts
 * const rounds = await runPgRestartLoop(platform, load, { rounds: 4, downMs: 2000 });
 * ```
 */
export async function runPgRestartLoop(
  platform: ChaosPlatform,
  load: SteadyLoad,
  options: RestartLoopOptions,
  log: (line: string) => void = console.log,
): Promise<RestartRound[]> {
  const results: RestartRound[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const mode = round % 2 === 1 ? "fast" : "immediate";
    const phase = `pg-restart-${round}`;
    load.phase = phase;
    const exitsBefore = platform.unexpectedExits.length;
    await new Promise((r) => setTimeout(r, 1000)); // load runs on a healthy platform first
    await platform.pg.stop(mode);
    const unhealthy = new Set<string>();
    const downUntil = Date.now() + options.downMs;
    while (Date.now() < downUntil) {
      for (const replica of platform.replicas) {
        const health = await replica.health();
        if (health.code === 503 && health.checks?.database === "unhealthy") {
          unhealthy.add(replica.name);
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await platform.pg.resume();
    let recoveryMs: number;
    try {
      recoveryMs = await platform.waitAllHealthy(options.recoveryTimeoutMs ?? 30_000);
    } catch (error) {
      log(String(error));
      recoveryMs = Infinity;
    }
    await new Promise((r) => setTimeout(r, 1000)); // and serves again after
    const result: RestartRound = {
      round,
      mode,
      recoverySeconds: recoveryMs / 1000,
      sawUnhealthy: unhealthy.size,
      replicas: platform.replicas.length,
      exits: platform.unexpectedExits.length - exitsBefore,
      acknowledged: load.tasksOf(phase).length,
    };
    results.push(result);
    log(
      `round ${round} (-m ${mode}): recovered in ${result.recoverySeconds.toFixed(2)} s, ` +
        `/health 503 seen on ${result.sawUnhealthy}/${result.replicas} replicas, ` +
        `${result.exits} exits, ${result.acknowledged} tasks acknowledged`,
    );
  }
  return results;
}

/**
 * True when every round met the bar: no exit, healthy within 5 s, unhealthy seen everywhere.
 *
 * @example
 * ```ts
 * if (!roundsPassed(rounds)) Deno.exit(1);
 * ```
 */
export function roundsPassed(rounds: RestartRound[], maxRecoverySeconds = 5): boolean {
  return rounds.every((r) =>
    r.exits === 0 && r.recoverySeconds <= maxRecoverySeconds && r.sawUnhealthy === r.replicas
  );
}

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}

if (import.meta.main) {
  exitOnHelp(moduleDoc(import.meta.url));
  const rounds = flag("rounds", 12);
  const replicas = flag("replicas", 1);
  const started = Date.now();
  const platform = await ChaosPlatform.start({ replicas, nats: "single" });
  const load = new SteadyLoad(platform, {
    createPerSecond: flag("rate", 20),
    clients: 5,
    developers: flag("developers", 40),
    heartbeatMs: 3000,
    acceptEveryMs: 1000,
    callTimeoutMs: 3000,
  });
  let results: RestartRound[] = [];
  try {
    await load.prepare();
    load.start();
    results = await runPgRestartLoop(platform, load, { rounds, downMs: flag("down-ms", 2000) });
  } finally {
    await load.stop();
    await platform.stop();
  }
  const exits = results.reduce((n, r) => n + r.exits, 0);
  const worst = Math.max(...results.map((r) => r.recoverySeconds));
  const passed = roundsPassed(results);
  console.log(
    `\n${results.length} rounds x ${replicas * 3} processes: ${exits} exits, slowest recovery ` +
      `${worst.toFixed(2)} s, ${load.tasks.length} tasks acknowledged, ` +
      `${((Date.now() - started) / 1000).toFixed(0)} s in all: ${passed ? "PASSED" : "FAILED"}`,
  );
  Deno.exit(passed ? 0 : 1);
}
