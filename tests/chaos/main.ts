/**
 * `deno task chaos`: the platform with two replicas of each service under steady load (CreateTask,
 * heartbeats, accepts), while each dependency (PostgreSQL, NATS, Redis) and each service is in
 * turn killed, stopped, frozen and restarted; with a three-node NATS cluster, the TASKS stream
 * leader is killed too. Prints per fault what was acknowledged, stored, published, duplicated or
 * stranded, how long recovery took and which processes exited, then a table; exits 1 unless
 * nothing was lost, duplicated or stranded, no process exited, and every recovery took at most
 * 5 s with `/health` truthful throughout.
 *
 * Options: `--nats cluster|single` (default cluster), `--replicas 2`, `--rate 10` (CreateTask/s),
 * `--developers 20`, `--hold-ms 3000`, `--only <text>` (faults whose name contains it),
 * `--logs <dir>` (each replica's log written to `<dir>/<replica>.log`).
 *
 * @module
 */
import { Auditor } from "./audit.ts";
import { dependencyFaults, serviceFaults } from "./faults.ts";
import { SteadyLoad } from "./load.ts";
import { auditIdempotency, describeIdempotency } from "./idempotency_audit.ts";
import { ChaosPlatform } from "./platform.ts";
import { resultsTable } from "./report.ts";
import { runFaults } from "./runner.ts";
import { exitOnHelp, moduleDoc } from "@platform/lib/config";

exitOnHelp(moduleDoc(import.meta.url));

function option(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && Deno.args[i + 1] !== undefined ? Deno.args[i + 1] : fallback;
}

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const nats = option("nats", "cluster") === "single" ? "single" : "cluster";
const replicas = Number(option("replicas", "2"));
const only = option("only", "");
const faults = [...dependencyFaults(nats === "cluster"), ...serviceFaults()]
  .filter((f) => f.name.includes(only));

console.log(
  `chaos: ${replicas} replicas of each service, NATS ${nats}` +
    `${
      nats === "cluster" ? " (3 nodes, streams replicated 3 times)" : ""
    }, ${faults.length} faults`,
);
const logDir = option("logs", "");
if (logDir) await Deno.mkdir(logDir, { recursive: true });
const platform = await ChaosPlatform.start({ replicas, nats, logDir: logDir || undefined });
const auditor = new Auditor(platform.databaseUrl, platform.nats.url);
const load = new SteadyLoad(platform, {
  createPerSecond: Number(option("rate", "10")),
  clients: 5,
  developers: Number(option("developers", "20")),
  heartbeatMs: 3000,
  acceptEveryMs: 1000,
  callTimeoutMs: 3000,
  watchers: 6,
  doctorEveryMs: 10_000,
});
let passed = false;
try {
  await load.prepare();
  load.start();
  console.log(`platform up and loaded after ${elapsed()}`);
  const results = await runFaults(platform, load, auditor, faults, {
    steadyMs: 1500,
    holdMs: Number(option("hold-ms", "3000")),
    maxRecoverySeconds: 5,
    settleTimeoutMs: 30_000,
  });
  await load.stop();
  // The whole run: everything drained, then every record checked once more.
  const left = await auditor.drain(load.tasks, load.accepts, 60_000);
  const whole = await auditor.figures(load.tasks, load.accepts);
  console.log(`\n${resultsTable(results)}\n`);
  const idempotency = await auditIdempotency(
    platform.databaseUrl,
    load.keys.errored,
    load.keys.unavailable,
  );
  console.log(describeIdempotency(idempotency, load.keys.retries));
  const wholeProblems = [
    ...(idempotency.duplicatedKeys > 0
      ? [`${idempotency.duplicatedKeys} idempotency keys with more than one task`]
      : []),
    ...(idempotency.unavailableButDone > 0
      ? [`${idempotency.unavailableButDone} CreateTask answered unavailable although done`]
      : []),
    ...left.map((l) => `not drained: ${l}`),
    ...(whole.stored !== whole.acknowledged
      ? [`${whole.acknowledged - whole.stored} acknowledged tasks lost`]
      : []),
    ...(whole.eventsMissing + whole.eventsDuplicated > 0
      ? [`task.created: ${whole.eventsMissing} missing, ${whole.eventsDuplicated} duplicated`]
      : []),
    ...(whole.proposalEventsMissing + whole.proposalsDuplicated > 0
      ? [
        `proposal.created: ${whole.proposalEventsMissing} missing, ${whole.proposalsDuplicated} duplicated`,
      ]
      : []),
    ...(auditor.duplicatedEventIds() > 0
      ? [`${auditor.duplicatedEventIds()} event ids stored twice`]
      : []),
    ...(whole.strandedTasks + whole.strandedAccepts > 0
      ? [`stranded: ${whole.strandedTasks} tasks, ${whole.strandedAccepts} accepts`]
      : []),
  ];
  console.log(
    `whole run, after draining: ${whole.acknowledged} tasks acknowledged, ${whole.stored} stored, ` +
      `task.created ${whole.eventsUnique} unique/${whole.eventsDuplicated} duplicated/` +
      `${whole.eventsMissing} missing, ${whole.proposals} proposals with ` +
      `${whole.proposalsDuplicated} duplicated/${whole.proposalEventsMissing} missing events, ` +
      `${whole.accepts} accepts (${whole.strandedAccepts} not assigned): ` +
      `${wholeProblems.length === 0 ? "ok" : wholeProblems.join("; ")}`,
  );
  for (const exit of platform.unexpectedExits) {
    console.log(`exited: ${exit.replica} code ${exit.code} signal ${exit.signal}`);
  }
  for (const rejection of platform.rejections) {
    console.log(`unhandled rejection: ${rejection.service}: ${rejection.line}`);
  }
  passed = results.length === faults.length && results.every((r) => r.problems.length === 0) &&
    wholeProblems.length === 0 && platform.unexpectedExits.length === 0 &&
    platform.rejections.length === 0;
  const calls = load.tasks.length + load.accepts.length;
  console.log(
    `${faults.length} faults, ${load.tasks.length} tasks and ${load.accepts.length} accepts ` +
      `acknowledged (${calls} calls), ${platform.unexpectedExits.length} unexpected exits, ` +
      `${platform.rejections.length} unhandled rejections, ` +
      `${elapsed()}: ${passed ? "PASSED" : "FAILED"} (the bar: 0 lost, 0 duplicated, ` +
      `0 stranded, 0 exits, recovery <= 5 s, /health truthful)`,
  );
} finally {
  await load.stop();
  await auditor.close();
  await platform.stop();
}
Deno.exit(passed ? 0 : 1);
