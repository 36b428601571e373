/**
 * The scale benchmark at a small size (2k developers / 10k tasks) as a check of plans, not of
 * timings: every list, search, get and match RPC's statements and every sweep's are explained
 * with sequential scans discouraged (`enable_seqscan = off`), so a Seq Scan left on one of the
 * big tables means no index can serve the statement, and its cost grows with the table.
 *
 * @module
 */
import assert from "node:assert/strict";
import { NatsServer } from "../harness/nats_server.ts";
import { PostgresServer } from "../harness/postgres_server.ts";
import { RedisServer } from "../harness/redis_server.ts";
import { runSize } from "../../bench/scale/run_size.ts";
import { parseSizes } from "../../bench/scale/sizes.ts";

/** The tables that grow with the platform. */
const BIG_TABLES = [
  "users",
  "tasks",
  "task_transitions",
  "task_outbox",
  "task_proposal_holders",
  "task_skills",
  "match_tasks",
  "match_task_terms",
  "proposals",
  "proposal_outbox",
  "developer_presence",
  "user_outbox",
];

Deno.test("parseSizes reads developers/tasks pairs and refuses the rest", () => {
  assert.deepEqual(parseSizes("10k/100k, 1m/5m"), [
    { developers: 10_000, tasks: 100_000 },
    { developers: 1_000_000, tasks: 5_000_000 },
  ]);
  for (const bad of ["", "10k", "10k/100k/1", "ten/100k", "10/100"]) {
    assert.throws(() => parseSizes(bad), `"${bad}" should be refused`);
  }
});

Deno.test({
  name: "bench:scale at 2k/10k: no statement of an RPC or a sweep scans a big table",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const [pg, nats, redis] = await Promise.all([
      PostgresServer.start(),
      NatsServer.start(),
      RedisServer.start(),
    ]);
    try {
      const results = await runSize(pg, nats.url, redis.url, {
        size: parseSizes("2k/10k")[0],
        samples: 0,
        probeSeconds: 0,
        plansOnly: true,
        seqscanOff: true,
        log: () => {},
      });
      assert(results.length >= 20, `only ${results.length} probes`);
      const scans: string[] = [];
      for (const result of results) {
        assert(result.plans.length > 0, `${result.name}: no statement recorded`);
        for (const plan of result.plans) {
          for (const match of plan.matchAll(/Seq Scan on (\w+)/g)) {
            if (BIG_TABLES.includes(match[1])) {
              scans.push(`${result.name}: Seq Scan on ${match[1]}`);
            }
          }
        }
      }
      assert.deepEqual(scans, [], scans.join("\n"));
    } finally {
      await Promise.allSettled([pg.destroy(), nats.destroy(), redis.stop()]);
    }
  },
});
