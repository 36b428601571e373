/** The loop: rounds, waits, pokes, stop, errors. No servers. */
import assert from "node:assert/strict";
import { Loop } from "./loop.ts";

const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("rounds run back to back while they ask for 0 ms, then wait; stop ends the wait", async () => {
  let rounds = 0;
  const loop = new Loop({ round: () => Promise.resolve(++rounds < 3 ? 0 : 60_000) });
  loop.start();
  loop.start(); // a second start changes nothing
  await tick();
  assert.equal(rounds, 3);
  const started = performance.now();
  await loop.stop();
  assert.ok(performance.now() - started < 1000);
  assert.ok(loop.stopped);
  assert.equal(rounds, 3);
});

Deno.test("a poke ends a wakeable wait, and one that came during a round skips the next wait", async () => {
  let rounds = 0;
  let pokeDuring = false;
  const loop = new Loop({
    round: async () => {
      rounds++;
      if (pokeDuring) {
        pokeDuring = false;
        loop.poke();
      }
      await tick(1);
      return 60_000;
    },
  });
  loop.start();
  await tick();
  assert.equal(rounds, 1);
  loop.poke();
  await tick();
  assert.equal(rounds, 2);
  pokeDuring = true;
  loop.poke();
  await tick(20);
  assert.equal(rounds, 4, "the poke during round 3 made round 4 start at once");
  await loop.stop();
});

Deno.test("a wait that is not wakeable ignores pokes but not stop", async () => {
  let rounds = 0;
  const loop = new Loop({
    round: () => Promise.resolve(++rounds && { ms: 60_000, wakeable: false }),
  });
  loop.start();
  await tick();
  loop.poke();
  await tick();
  assert.equal(rounds, 1);
  await loop.stop();
});

Deno.test("a round that throws goes to onError, and the loop goes on", async () => {
  let rounds = 0;
  const errors: string[] = [];
  const loop = new Loop({
    round: () => ++rounds === 1 ? Promise.reject(new Error("down")) : Promise.resolve(60_000),
    onError: (error) => {
      errors.push((error as Error).message);
      return 0;
    },
  });
  loop.start();
  await tick();
  assert.deepEqual(errors, ["down"]);
  assert.equal(rounds, 2);
  await loop.stop();
});

Deno.test("initialDelayMs waits before the first round; stop during it runs none", async () => {
  let rounds = 0;
  const loop = new Loop({ round: () => Promise.resolve(++rounds && 1000), initialDelayMs: 60_000 });
  loop.start();
  await tick();
  await loop.stop();
  assert.equal(rounds, 0);
  await new Loop({ round: () => Promise.resolve(0) }).stop(); // never started: resolves
});
