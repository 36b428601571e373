/**
 * Issue 15's blocker as a regression test: under load, PostgreSQL is restarted (`pg_ctl stop -m
 * fast`, then `-m immediate`, twice each) while `/health` is polled; then NATS is restarted and
 * Redis killed and restarted. No service process may exit, and every replica must be healthy
 * within 5 s of the dependency's return. (The full 12-round loop: `deno task chaos:pg-restart`;
 * every fault with two replicas each: `deno task chaos`.)
 */
import assert from "node:assert/strict";
import { SteadyLoad } from "../chaos/load.ts";
import { runPgRestartLoop } from "../chaos/pg_restart_loop.ts";
import { ChaosPlatform } from "../chaos/platform.ts";
import { hasCommand } from "../harness/processes.ts";

const ready = hasCommand("nats-server") && hasCommand("redis-server");

Deno.test({
  name: "dependency restarts under load: no process exits, healthy within 5 s each time",
  ignore: !ready,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const platform = await ChaosPlatform.start({ replicas: 1, nats: "single" });
  const load = new SteadyLoad(platform, {
    createPerSecond: 10,
    clients: 3,
    developers: 8,
    heartbeatMs: 2000,
    acceptEveryMs: 1000,
    callTimeoutMs: 3000,
  });
  try {
    await load.prepare();
    load.start();
    const rounds = await runPgRestartLoop(platform, load, { rounds: 4, downMs: 1500 });
    for (const round of rounds) {
      assert.equal(round.exits, 0, `round ${round.round} (-m ${round.mode}): a process exited`);
      assert.ok(
        round.recoverySeconds <= 5,
        `round ${round.round} (-m ${round.mode}): healthy after ${round.recoverySeconds} s`,
      );
      assert.equal(
        round.sawUnhealthy,
        round.replicas,
        `round ${round.round}: /health did not say 503 on every replica while PostgreSQL was down`,
      );
    }

    const nats = platform.nats as import("../harness/nats_server.ts").NatsServer;
    await nats.stop();
    await new Promise((r) => setTimeout(r, 1500));
    await nats.resume();
    const natsRecovery = await platform.waitAllHealthy(5000);

    await platform.redis.kill();
    await new Promise((r) => setTimeout(r, 1500));
    await platform.redis.resume();
    const redisRecovery = await platform.waitAllHealthy(5000);

    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(platform.unexpectedExits.map((e) => e.replica), [], "processes exited");
    assert.ok(load.tasks.length > 0, "no task was acknowledged");
    console.log(
      `PostgreSQL rounds recovered in ${
        rounds.map((r) => r.recoverySeconds.toFixed(2)).join(", ")
      } s; ` +
        `NATS in ${(natsRecovery / 1000).toFixed(2)} s, Redis in ${
          (redisRecovery / 1000).toFixed(2)
        } s`,
    );
  } finally {
    await load.stop();
    await platform.stop();
  }
});
