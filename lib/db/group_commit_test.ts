/** GroupCommit: batches while a commit is in flight, one answer per member, isolation on error. */
import assert from "node:assert/strict";
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
