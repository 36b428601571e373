/**
 * The PostgreSQL restart loop of issues 15 and 21: under load, PostgreSQL is stopped (`pg_ctl stop
 * -m fast`, then `-m immediate`, alternately), kept down a moment while `/health` is polled, and
 * started again. Each round must end with no service process exited, no unhandled rejection
 * logged, and every replica healthy within 5 s of PostgreSQL's return, and `/health` must have
 * said "unhealthy" during the outage.
 *
 * The load is issue 21's shape: three clients each creating a task every 20 ms (so the
 * orchestrator matches and calls RankCandidates all the time), developers heart-beating (presence
 * sweeps), Watch streams open, `doctor` running every few seconds, and two busy-loop processes
 * beside it all (the races it found show under CPU pressure).
 *
 * As a program: `deno task chaos:pg-restart [--rounds 12] [--replicas 1] [--rate 150]
 * [--clients 3] [--developers 40] [--watchers 10] [--busy 2] [--down-ms 2000]`; exits 1 when a
 * round missed the bar.
 *
 * @module
 */
import { exitOnHelp, moduleDoc } from "@platform/lib/config";
import { ChaosPlatform } from "./platform.ts";
import { SteadyLoad } from "./load.ts";
import {
  auditIdempotency,
  describeIdempotency,
  type IdempotencyFigures,
} from "./idempotency_audit.ts";

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
  /** Unhandled rejections the services logged during the round. */
  rejections: number;
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
    const rejectionsBefore = platform.rejections.length;
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
      rejections: platform.rejections.length - rejectionsBefore,
      acknowledged: load.tasksOf(phase).length,
    };
    results.push(result);
    log(
      `round ${round} (-m ${mode}): recovered in ${result.recoverySeconds.toFixed(2)} s, ` +
        `/health 503 seen on ${result.sawUnhealthy}/${result.replicas} replicas, ` +
        `${result.exits} exits, ${result.rejections} unhandled rejections, ` +
        `${result.acknowledged} tasks acknowledged`,
    );
  }
  return results;
}

/**
 * True when every round met the bar: no exit, no unhandled rejection, healthy within 5 s,
 * unhealthy seen everywhere.
 *
 * @example
 * ```ts
 * if (!roundsPassed(rounds)) Deno.exit(1);
 * ```
 */
export function roundsPassed(rounds: RestartRound[], maxRecoverySeconds = 5): boolean {
  return rounds.every((r) =>
    r.exits === 0 && r.rejections === 0 && r.recoverySeconds <= maxRecoverySeconds &&
    r.sawUnhealthy === r.replicas
  );
}

/**
 * Starts `count` processes that spin on a CPU each until stopped: the CPU pressure under which
 * the races of issue 21 showed.
 *
 * @example
 * ```ts
 * const busy = startBusyLoops(2);
 * busy.stop();
 * ```
 */
export function startBusyLoops(count: number): { stop: () => Promise<void> } {
  const children = Array.from({ length: count }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["eval", "for (;;) {}"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn());
  return {
    async stop() {
      for (const child of children) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }
      await Promise.allSettled(children.map((c) => c.status));
    },
  };
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
    createPerSecond: flag("rate", 150),
    clients: flag("clients", 3),
    developers: flag("developers", 40),
    heartbeatMs: 3000,
    acceptEveryMs: 1000,
    callTimeoutMs: 3000,
    watchers: flag("watchers", 10),
    doctorEveryMs: 5000,
  });
  let results: RestartRound[] = [];
  let busy: { stop: () => Promise<void> } | undefined;
  let idempotency: IdempotencyFigures | undefined;
  try {
    await load.prepare();
    load.start();
    busy = startBusyLoops(flag("busy", 2));
    results = await runPgRestartLoop(platform, load, { rounds, downMs: flag("down-ms", 2000) });
    await busy?.stop();
    await load.stop();
    idempotency = await auditIdempotency(
      platform.databaseUrl,
      load.keys.errored,
      load.keys.unavailable,
    );
  } finally {
    await busy?.stop();
    await load.stop();
    await platform.stop();
  }
  const exits = results.reduce((n, r) => n + r.exits, 0);
  const rejections = results.reduce((n, r) => n + r.rejections, 0);
  const worst = Math.max(...results.map((r) => r.recoverySeconds));
  const passed = results.length === rounds && roundsPassed(results) &&
    idempotency?.duplicatedKeys === 0 && idempotency.unavailableButDone === 0;
  if (idempotency) console.log(describeIdempotency(idempotency, load.keys.retries));
  const doctor = [...load.doctorRuns].map(([code, n]) => `${n}x exit ${code}`).join(", ");
  console.log(
    `\n${results.length} rounds x ${replicas * 3} processes: ${exits} exits, ${rejections} ` +
      `unhandled rejections, slowest recovery ${worst.toFixed(2)} s, ${load.tasks.length} tasks ` +
      `acknowledged, Watch: ${load.watch.opened} streams opened, ${load.watch.frames} frames, ` +
      `doctor: ${doctor || "not run"}, ${((Date.now() - started) / 1000).toFixed(0)} s in all: ` +
      `${passed ? "PASSED" : "FAILED"}`,
  );
  Deno.exit(passed ? 0 : 1);
}
