/** GroupCommit: batches while a commit is in flight, one answer per member, isolation on error. */
import assert from "node:assert/strict";
import { DependencyUnavailableError } from "../errors.ts";
import { GroupCommit } from "./group_commit.ts";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

Deno.test("requests arriving while a commit is in flight share the next batch", async () => {
  const batches: number[][] = [];
  const gate = deferred();
  const commits = new GroupCommit<number, number>(async (items) => {
    batches.push(items);
    if (batches.length === 1) await gate.promise;
    return items.map((n) => n * 10);
  }, { maxInFlight: 1, maxBatch: 3 });
  const first = commits.submit(1);
  const rest = [2, 3, 4, 5].map((n) => commits.submit(n));
  assert.equal(commits.waiting, 4);
  gate.resolve();
  assert.deepEqual(await Promise.all([first, ...rest]), [10, 20, 30, 40, 50]);
  assert.deepEqual(batches, [[1], [2, 3, 4], [5]]);
});

Deno.test("a member's error fails it alone when isolated; others commit", async () => {
  const gate = deferred();
  let calls = 0;
  const commits = new GroupCommit<number, number>(async (items) => {
    calls++;
    if (calls === 1) await gate.promise;
    if (items.includes(13)) throw new Error("bad member");
    return items;
  }, { maxInFlight: 1, isolate: (e) => (e as Error).message === "bad member" });
  const first = commits.submit(1);
  const results = Promise.allSettled([12, 13, 14].map((n) => commits.submit(n)));
  gate.resolve();
  assert.equal(await first, 1);
  const settled = await results;
  assert.deepEqual(settled.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  assert.deepEqual(settled.map((r) => r.status === "fulfilled" ? r.value : null), [12, null, 14]);
});

Deno.test("an error not isolated fails every member of the batch, without retry", async () => {
  const gate = deferred();
  let calls = 0;
  const commits = new GroupCommit<number, number>(async (items) => {
    calls++;
    if (calls === 1) {
      await gate.promise;
      return items;
    }
    throw new Error("database unavailable");
  }, { maxInFlight: 1, isolate: () => false });
  const first = commits.submit(1);
  const results = Promise.allSettled([2, 3].map((n) => commits.submit(n)));
  gate.resolve();
  await first;
  assert.deepEqual((await results).map((r) => r.status), ["rejected", "rejected"]);
  assert.equal(calls, 2);
});

Deno.test("a full queue refuses at once with unavailable; nothing of it is committed", async () => {
  const gate = deferred();
  const committed: number[] = [];
  const commits = new GroupCommit<number, number>(async (items) => {
    await gate.promise;
    committed.push(...items);
    return items;
  }, { maxInFlight: 1, maxBatch: 2, maxWaiting: 3 });
  const accepted = [1, 2, 3, 4].map((n) => commits.submit(n)); // 1 commits, 2-4 wait
  await assert.rejects(() => commits.submit(5), DependencyUnavailableError);
  gate.resolve();
  assert.deepEqual(await Promise.all(accepted), [1, 2, 3, 4]);
  assert.deepEqual(committed.sort(), [1, 2, 3, 4]);
});

Deno.test("a request that waited too long for its batch is refused and never sent", async () => {
  const gate = deferred();
  const committed: number[] = [];
  const commits = new GroupCommit<number, number>(async (items) => {
    if (items.includes(1)) await gate.promise;
    committed.push(...items);
    return items;
  }, { maxInFlight: 1, maxWaitMs: 20 });
  const first = commits.submit(1);
  const late = commits.submit(2);
  await new Promise((resolve) => setTimeout(resolve, 60));
  gate.resolve();
  assert.equal(await first, 1);
  await assert.rejects(() => late, DependencyUnavailableError);
  assert.deepEqual(committed, [1]);
});

Deno.test("isolated retries go one at a time; a throwing predicate fails the batch", async () => {
  let running = 0;
  let most = 0;
  const gate = deferred();
  let calls = 0;
  const commits = new GroupCommit<number, number>(async (items) => {
    calls++;
    if (calls === 1) await gate.promise;
    running++;
    most = Math.max(most, running);
    await new Promise((resolve) => setTimeout(resolve, 2));
    running--;
    if (items.length > 1) throw Object.assign(new Error("check violation"), { code: "23514" });
    return items;
  }, { maxInFlight: 1, isolate: (e) => (e as { code?: string }).code === "23514" });
  const first = commits.submit(0);
  const batch = [1, 2, 3, 4].map((n) => commits.submit(n));
  gate.resolve();
  await first;
  assert.deepEqual(await Promise.all(batch), [1, 2, 3, 4]);
  assert.equal(most, 1);

  const throwing = new GroupCommit<number, number>(async (items) => {
    if (items.length > 1) throw new Error("batch failed");
    await new Promise((resolve) => setTimeout(resolve, 5));
    return items;
  }, {
    maxInFlight: 1,
    isolate: () => {
      throw new Error("predicate bug");
    },
  });
  const lone = throwing.submit(0);
  const both = Promise.allSettled([5, 6].map((n) => throwing.submit(n)));
  await lone;
  assert.deepEqual((await both).map((r) => r.status), ["rejected", "rejected"]);
});
