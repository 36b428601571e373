/**
 * Runs faults one after the other under steady load and judges each: the fault is injected,
 * held while `/health` and `/readyz` are watched, ended; the time until every replica is healthy
 * again is measured; then, while the load goes on into the next fault's steady period, the
 * fault's acknowledged work is audited.
 *
 * @module
 */
import type { Auditor, PhaseFigures } from "./audit.ts";
import type { Fault } from "./faults.ts";
import type { SteadyLoad } from "./load.ts";
import type { ChaosPlatform } from "./platform.ts";

/** What the suite reports for one fault. */
export interface FaultResult extends PhaseFigures {
  fault: string;
  /** Seconds from the fault's end to every replica healthy. */
  recoverySeconds: number;
  /** "yes", "n/a", or what `/health` or `/readyz` got wrong while the fault lasted. */
  health: string;
  /** Service processes that exited without being told to. */
  exits: number;
  /** CreateTask and other calls that failed (not acknowledged) during the fault. */
  failedCalls: number;
  /** What had not settled when the audit gave up. */
  outstanding: string[];
  problems: string[];
}

/** Timings of a run. */
export interface RunnerOptions {
  /** Steady load before each fault. */
  steadyMs: number;
  /** How long a fault lasts. */
  holdMs: number;
  /** The most a recovery may take (the bar). */
  maxRecoverySeconds: number;
  /** The longest wait for the platform to settle before the audit. */
  settleTimeoutMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs every fault and resolves with their results, printing one line per fault as it goes.
 *
 * @example
 * ```ts
 * const results = await runFaults(platform, load, auditor, faults, options);
 * ```
 */
export async function runFaults(
  platform: ChaosPlatform,
  load: SteadyLoad,
  auditor: Auditor,
  faults: Fault[],
  options: RunnerOptions,
  log: (line: string) => void = console.log,
): Promise<FaultResult[]> {
  const results: FaultResult[] = [];
  let previous: (() => Promise<void>) | undefined;
  for (const fault of faults) {
    load.phase = fault.name;
    // The previous fault is audited while this one's steady load runs.
    const steady = sleep(options.steadyMs);
    await previous?.();
    await steady;
    const exitsBefore = platform.unexpectedExits.length;
    const problems: string[] = [];
    try {
      await fault.inject(platform);
    } catch (error) {
      problems.push(`inject failed: ${(error as Error).message}`);
    }
    const health = await watchHealth(platform, fault, options.holdMs);
    try {
      await fault.restore(platform);
    } catch (error) {
      problems.push(`restore failed: ${(error as Error).message}`);
    }
    let recoveryMs = Infinity;
    try {
      recoveryMs = await platform.waitAllHealthy(30_000);
      if (recoveryMs > options.maxRecoverySeconds * 1000) {
        problems.push(`waited last for ${platform.lastWait}`);
      }
    } catch (error) {
      problems.push((error as Error).message);
    }
    await sleep(options.steadyMs);
    const exits = platform.unexpectedExits.length - exitsBefore;
    if (fault.expectExitCode !== undefined && fault.exitCode !== fault.expectExitCode) {
      problems.push(`stopped replica exited with ${fault.exitCode}, not ${fault.expectExitCode}`);
    }
    const phase = fault.name;
    previous = async () => {
      const tasks = load.tasksOf(phase);
      const accepts = load.acceptsOf(phase);
      const { outstanding, snapshot } = await auditor.settle(
        tasks,
        accepts,
        options.settleTimeoutMs,
      );
      const figures = await auditor.figures(tasks, accepts, snapshot);
      const result: FaultResult = {
        fault: phase,
        ...figures,
        recoverySeconds: recoveryMs / 1000,
        health,
        exits,
        failedCalls: load.failuresOf(phase),
        outstanding,
        problems,
      };
      judge(result, options);
      results.push(result);
      log(resultLine(result));
    };
  }
  load.phase = "cool-down";
  await sleep(options.steadyMs);
  await previous?.();
  return results;
}

/** Watches `/health` and `/readyz` of every replica while the fault lasts. */
async function watchHealth(platform: ChaosPlatform, fault: Fault, holdMs: number): Promise<string> {
  const until = Date.now() + holdMs;
  const expected = fault.check
    ? platform.replicas.filter((r) => fault.checkedBy?.includes(r.service))
    : [];
  const sawUnhealthy = new Set<string>();
  const wrong = new Set<string>();
  while (Date.now() < until) {
    await Promise.all(expected.map(async (replica) => {
      const health = await replica.health();
      if (health.checks?.[fault.check!] !== "unhealthy") return;
      // A critical dependency down: 503; a non-critical one (Redis): 200 "degraded".
      const critical = fault.check !== "redis";
      if (critical ? health.code === 503 : health.code === 200 && health.status === "degraded") {
        sawUnhealthy.add(replica.name);
      } else {
        wrong.add(`${replica.name} answered ${health.code} ${health.status}`);
      }
    }));
    if (fault.check) {
      // Dependencies are not readiness: /readyz stays 200 on replicas that run (docs/operations.md).
      await Promise.all(platform.replicas.map(async (replica) => {
        if (!replica.proc) return;
        try {
          const res = await fetch(`${replica.url}/readyz`, { signal: AbortSignal.timeout(1000) });
          await res.body?.cancel();
          if (res.status !== 200) wrong.add(`${replica.name} /readyz ${res.status}`);
        } catch { /* a frozen or killed replica is another fault */ }
      }));
    }
    await sleep(250);
  }
  if (!fault.check) return "n/a";
  const missed = expected.filter((r) => !sawUnhealthy.has(r.name)).map((r) => r.name);
  if (missed.length > 0) wrong.add(`never reported ${fault.check} unhealthy: ${missed.join(", ")}`);
  return wrong.size === 0 ? "yes" : [...wrong].join("; ");
}

function judge(result: FaultResult, options: RunnerOptions): void {
  const p = result.problems;
  if (result.acknowledged === 0) p.push("no CreateTask was acknowledged");
  if (result.stored !== result.acknowledged) {
    p.push(`${result.acknowledged - result.stored} acknowledged tasks lost`);
  }
  if (result.eventsMissing > 0) p.push(`${result.eventsMissing} task.created missing`);
  if (result.eventsDuplicated > 0) p.push(`${result.eventsDuplicated} task.created duplicated`);
  if (result.eventIdsDuplicated > 0) p.push(`${result.eventIdsDuplicated} event ids stored twice`);
  if (result.proposalsDuplicated > 0) {
    p.push(`${result.proposalsDuplicated} proposal.created duplicated`);
  }
  if (result.proposalEventsMissing > 0) {
    p.push(`${result.proposalEventsMissing} proposal.created missing`);
  }
  if (result.strandedTasks > 0) p.push(`${result.strandedTasks} tasks stranded`);
  if (result.strandedAccepts > 0) p.push(`${result.strandedAccepts} accepts not assigned`);
  if (result.exits > 0) p.push(`${result.exits} processes exited`);
  if (!(result.recoverySeconds <= options.maxRecoverySeconds)) {
    p.push(`recovery ${result.recoverySeconds.toFixed(1)} s > ${options.maxRecoverySeconds} s`);
  }
  if (result.health !== "yes" && result.health !== "n/a") p.push(`health: ${result.health}`);
  if (result.outstanding.length > 0) p.push(`not settled: ${result.outstanding.join("; ")}`);
}

/**
 * One line per fault, as printed while the suite runs.
 *
 * @example
 * ```ts
 * console.log(resultLine(result)); // "ok   redis freeze: 62 acknowledged, ..."
 * ```
 */
export function resultLine(r: FaultResult): string {
  return `${r.problems.length === 0 ? "ok  " : "FAIL"} ${r.fault}: ` +
    `${r.acknowledged} acknowledged, ${r.stored} stored, ` +
    `events ${r.eventsUnique} unique/${r.eventsDuplicated} duplicated/${r.eventsMissing} missing, ` +
    `${r.proposals} proposals (${r.proposalsDuplicated} duplicated), ` +
    `${r.strandedTasks + r.strandedAccepts} stranded, ` +
    `recovered in ${r.recoverySeconds.toFixed(2)} s, health ${
      r.health === "yes" ? "truthful" : r.health
    }, ` +
    `${r.exits} exits` + (r.problems.length > 0 ? `\n     ${r.problems.join("\n     ")}` : "");
}
