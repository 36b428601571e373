/** Watch cursors and start positions, without servers. */
import assert from "node:assert/strict";
import { ValidationError } from "../errors.ts";
import { WatchCursors } from "./watch_cursor.ts";
import { startOf } from "./watch_service.ts";

const alice = "0b7f0f4e-7d36-4d7e-9b8f-2a3c4d5e6f70";
const bob = "11111111-2222-4333-8444-555555555555";

Deno.test("a cursor round-trips for its user only; forged ones are invalid_argument", async () => {
  const cursors = new WatchCursors(["secret-one-0123456789-0123456789-abc"]);
  const cursor = await cursors.sign(alice, 42);
  assert.match(cursor, /^42\.[A-Za-z0-9_-]{22}$/);
  assert.equal(await cursors.verify(alice, cursor), 42);
  assert.equal(await cursors.verify(alice.toUpperCase(), cursor), 42);
  const [, mac] = cursor.split(".");
  for (
    const bad of [`43.${mac}`, `042.${mac}`, `-1.${mac}`, "42", "", "x".repeat(500), `42.${mac}x`]
  ) {
    await assert.rejects(cursors.verify(alice, bad), ValidationError, bad);
  }
  // Another user's cursor.
  await assert.rejects(cursors.verify(bob, cursor), (e: Error) => /cursor/.test(e.message));
  // Another deployment's secret.
  await assert.rejects(
    new WatchCursors(["another-secret-0123456789-0123456789"]).verify(alice, cursor),
    ValidationError,
  );
  await assert.rejects(cursors.sign(alice, -1));
});

Deno.test("cursors survive a secret rotation (the first signs, all verify)", async () => {
  const old = new WatchCursors(["old-secret-0123456789-0123456789-abc"]);
  const rotated = new WatchCursors([
    "new-secret-0123456789-0123456789-abc",
    "old-secret-0123456789-0123456789-abc",
  ]);
  const cursor = await old.sign(alice, 7);
  assert.equal(await rotated.verify(alice, cursor), 7);
  assert.notEqual(await rotated.sign(alice, 7), cursor);
});

Deno.test("where a Watch starts: now, after the cursor, or at a gap", () => {
  assert.deepEqual(startOf(undefined, 1, 90), { start: 91 });
  assert.deepEqual(startOf(undefined, 0, 0), { start: 1 });
  assert.deepEqual(startOf(40, 1, 90), { start: 41 });
  assert.deepEqual(startOf(90, 1, 90), { start: 91 });
  assert.deepEqual(startOf(19, 20, 90), { start: 20 });
  assert.equal(startOf(5, 20, 90).start, 20);
  assert.match(startOf(5, 20, 90).gap ?? "", /retention/);
  assert.match(startOf(500, 1, 90).gap ?? "", /reset/);
  assert.equal(startOf(500, 1, 90).start, 1);
  assert.deepEqual(startOf(0, 0, 0), { start: 1 });
});
