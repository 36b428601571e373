/**
 * `deno task bench:scale`: does a list, a search, a match or a sweep cost the same at a million
 * developers as at ten thousand?
 *
 * For each size (developers/tasks) it starts from a fresh database on a throwaway PostgreSQL
 * (with NATS and Redis, tests/harness), lets the three services migrate it, seeds a platform in
 * SQL (bench/scale/seed.ts: Zipf-like skills from 200 tags, 10% online, tasks of every status,
 * their history, three proposals a task, published outbox rows), restarts the services on it and
 * prints p50/p95 of every list, search, get and match RPC (through the services, over Connect)
 * and of every background sweep statement (through the stores' own methods, rolled back) side
 * by side with the shared buffers its statements touch (from their plans: the work done, which
 * a busy machine does not blur), the ratios of the largest size's figures to the smallest's,
 * then `EXPLAIN (ANALYZE, BUFFERS)` (at the largest size) of the statements whose p95 or buffers
 * grew more than 2x (or of all with `--explain all`).
 *
 * Bounded: each probe gets at most `--samples` calls and `--probe-seconds` seconds; seeding is
 * the long part (about 1 s per 10k tasks here).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { machineLoad } from "./bench_tools.ts";
import { NatsServer } from "../tests/harness/nats_server.ts";
import { PostgresServer } from "../tests/harness/postgres_server.ts";
import { RedisServer } from "../tests/harness/redis_server.ts";
import { type ProbeResult, runSize } from "./scale/run_size.ts";
import { parseSizes } from "./scale/sizes.ts";
import type { PlatformSize } from "./scale/seed.ts";

const USAGE = `Usage: deno task bench:scale [--sizes 10k/100k,100k/1m] [--developers N --tasks N]
                             [--samples 40] [--probe-seconds 20] [--explain grew|all|none]

  --sizes          developers/tasks pairs, side by side (k and m suffixes); default 10k/100k,100k/1m
  --developers     with --tasks: one size instead of --sizes
  --samples        timed calls per RPC or sweep at each size (default 40)
  --probe-seconds  time budget of one RPC's or sweep's calls (default 20)
  --explain        grew (default): plans of what grew > 2x from the first size to the last;
                   all: every plan; none: no plans`;

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    sizes: { type: "string" },
    developers: { type: "string" },
    tasks: { type: "string" },
    samples: { type: "string" },
    "probe-seconds": { type: "string" },
    explain: { type: "string" },
    help: { type: "boolean" },
  },
});
if (args.help) {
  console.log(USAGE);
  Deno.exit(0);
}
let sizes: PlatformSize[];
try {
  sizes = args.developers || args.tasks
    ? parseSizes(`${args.developers ?? "10k"}/${args.tasks ?? "100k"}`)
    : parseSizes(args.sizes ?? "10k/100k,100k/1m");
} catch (error) {
  console.error(`${(error as Error).message}\n\n${USAGE}`);
  Deno.exit(64);
}
const samples = Number(args.samples ?? 40);
const probeSeconds = Number(args["probe-seconds"] ?? 20);
const explain = args.explain ?? "grew";
if (!(samples > 0) || !(probeSeconds > 0) || !["grew", "all", "none"].includes(explain)) {
  console.error(USAGE);
  Deno.exit(64);
}

const label = (s: PlatformSize) => `${short(s.developers)}/${short(s.tasks)}`;
function short(n: number): string {
  return n >= 1e6 && n % 1e5 === 0
    ? `${n / 1e6}m`
    : n >= 1e3 && n % 100 === 0
    ? `${n / 1e3}k`
    : `${n}`;
}

console.log(
  `bench:scale: sizes ${
    sizes.map(label).join(", ")
  } (developers/tasks); ${samples} calls a probe; ` +
    `${machineLoad()}`,
);
const [pg, nats, redis] = await Promise.all([
  PostgresServer.start(),
  NatsServer.start(),
  RedisServer.start(),
]);
const bySize: ProbeResult[][] = [];
try {
  for (const size of sizes) {
    console.log(`size ${label(size)}:`);
    const started = performance.now();
    bySize.push(
      await runSize(pg, nats.url, redis.url, {
        size,
        samples,
        probeSeconds,
        log: (line) => console.log(line),
      }),
    );
    console.log(`  (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
} finally {
  await Promise.allSettled([pg.destroy(), nats.destroy(), redis.stop()]);
}

const first = bySize[0];
const last = bySize[bySize.length - 1];
const cell = (r: ProbeResult) => `${r.p50.toFixed(2)} / ${r.p95.toFixed(2)} / ${r.buffers}`;
const header = [
  "",
  ...sizes.map((s) => `${label(s)} p50 / p95 ms / buffers`),
  "p95 last/first",
  "buffers last/first",
];
const rows = first.map((probe, i) => [
  `${probe.kind === "sweep" ? "sweep " : ""}${probe.name}`,
  ...bySize.map((results) => cell(results[i])),
  (last[i].p95 / probe.p95).toFixed(1) + "x",
  (last[i].buffers / Math.max(1, probe.buffers)).toFixed(1) + "x",
]);
const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
const line = (cells: string[]) =>
  cells.map((text, c) => c === 0 ? text.padEnd(widths[c]) : text.padStart(widths[c])).join("  ");
console.log(`\n${line(header)}`);
for (const row of rows) console.log(line(row));
console.log(machineLoad());

if (explain !== "none") {
  // Grew: the p95 more than doubled, or the buffers read did (latency on a busy machine is
  // noisy; the buffers are not).
  const shown = last.filter((r, i) =>
    explain === "all" || bySize.length === 1 || r.p95 > 2 * first[i].p95 ||
    r.buffers > 2 * Math.max(first[i].buffers, 10)
  );
  console.log(
    `\nEXPLAIN (ANALYZE, BUFFERS) at ${label(sizes[sizes.length - 1])}${
      explain === "grew" && bySize.length > 1 ? " of what grew more than 2x" : ""
    }: ${shown.length === 0 ? "nothing" : ""}`,
  );
  for (const result of shown) {
    console.log(`\n=== ${result.name}`);
    for (const plan of result.plans) console.log(`${plan}\n`);
  }
}
