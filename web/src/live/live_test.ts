import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Notification,
  NotificationKind,
  type WatchResponse,
  WatchResponseSchema,
} from "@platform/proto/notifications/v1";
import { backoffDelay } from "./backoff.ts";
import {
  createNotificationStream,
  type StreamState,
  type WatchCall,
} from "./notification_stream.ts";
import { startReloader } from "./reloader.ts";

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await wait(2);
  }
}

const keepAlive = (cursor: string): WatchResponse =>
  create(WatchResponseSchema, { cursor, frame: { case: "keepAlive", value: {} } });
const gap = (cursor: string): WatchResponse =>
  create(WatchResponseSchema, { cursor, frame: { case: "gap", value: { reason: "gone" } } });
const offered = (cursor: string, taskId: string): WatchResponse =>
  create(WatchResponseSchema, {
    cursor,
    frame: {
      case: "notification",
      value: { eventId: cursor, kind: NotificationKind.PROPOSAL_OFFERED, taskId },
    },
  });

/** A stream that fails with `error` before its first frame. */
function failing(error: unknown): AsyncIterable<WatchResponse> {
  return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }) };
}

/** No frame until aborted, as a server's open stream with nothing more to say. */
function hangUntilAborted(signal: AbortSignal): AsyncIterable<WatchResponse> {
  const aborted = () => new ConnectError("the operation was aborted", Code.Canceled);
  const next = () =>
    new Promise<IteratorResult<WatchResponse>>((_, reject) => {
      if (signal.aborted) reject(aborted());
      signal.addEventListener("abort", () => reject(aborted()), { once: true });
    });
  return { [Symbol.asyncIterator]: () => ({ next }) };
}

const FAST = { backoff: { firstMs: 5, maxMs: 20, jitter: 0 }, lingerMs: 10 };

Deno.test("backoff doubles from the first wait up to the cap, with jitter below the wait", () => {
  const settings = { firstMs: 1000, maxMs: 8000, jitter: 0 };
  assert.deepEqual([0, 1, 2, 3, 4, 5, 40].map((n) => backoffDelay(n, settings)), [
    1000,
    1000,
    2000,
    4000,
    8000,
    8000,
    8000,
  ]);
  const jittered = { ...settings, jitter: 0.3 };
  assert.equal(backoffDelay(3, jittered, () => 0), 4000);
  assert.equal(backoffDelay(3, jittered, () => 1), 2800);
});

Deno.test("the stream resumes with the last cursor after a drop, a clean end and a gap", async () => {
  const cursors: string[] = [];
  const script: Array<(signal: AbortSignal) => AsyncIterable<WatchResponse>> = [
    async function* () {
      yield keepAlive("1.a");
      yield offered("2.b", "task-1");
      throw new ConnectError("Failed to fetch", Code.Unknown);
    },
    async function* () {
      yield keepAlive("2.b");
      yield gap("5.c");
      // then the server ends the stream (its time limit): a clean end
    },
    async function* () {
      yield keepAlive("5.c");
      yield offered("6.d", "task-2");
    },
    async function* (signal) {
      yield keepAlive("6.d");
      yield* hangUntilAborted(signal);
    },
  ];
  const watch: WatchCall = (request, options) => {
    cursors.push(request.cursor);
    assert.equal(options.timeoutMs, 0, "a stream has no deadline");
    const next = script[Math.min(cursors.length - 1, script.length - 1)];
    return next(options.signal);
  };
  const errors: unknown[] = [];
  const stream = createNotificationStream(watch, { ...FAST, onError: (e) => errors.push(e) });
  const states: StreamState[] = [];
  stream.state.subscribe((s) => states.push(s));
  const heard: string[] = [];
  const stop = stream.subscribe({
    onNotification: (n: Notification) => heard.push(`notification ${n.taskId}`),
    onReload: () => heard.push("reload"),
  });
  await until(() => cursors.length >= 4 && stream.state.get() === "live", "the fourth connection");
  assert.deepEqual(cursors, ["", "2.b", "5.c", "6.d"], "each reconnect carries the last cursor");
  assert.deepEqual(heard, [
    "reload", // a fresh start: what happened before it is not on the stream
    "notification task-1",
    "reload", // the gap
    "notification task-2",
  ]);
  assert.equal(errors.length, 1, "the dropped connection was reported");
  assert.equal(stream.cursor(), "6.d");
  assert.equal(states[0], "connecting");
  assert.ok(states.includes("reconnecting"));
  assert.equal(states.at(-1), "live");

  stop();
  await until(() => stream.state.get() === "idle", "the stream to close after the linger");
  assert.equal(stream.cursor(), "", "a closed stream forgets its cursor");
});

Deno.test("a refused cursor starts afresh and tells the views to reload", async () => {
  const cursors: string[] = [];
  const watch: WatchCall = (request, { signal }) => {
    cursors.push(request.cursor);
    if (cursors.length === 1) {
      return (async function* () {
        yield keepAlive("7.x");
        throw new ConnectError("Failed to fetch", Code.Unknown);
      })();
    }
    if (request.cursor !== "") {
      return failing(
        new ConnectError("cursor: not one this service gave you", Code.InvalidArgument),
      );
    }
    return (async function* () {
      yield keepAlive("9.y");
      yield* hangUntilAborted(signal);
    })();
  };
  let reloads = 0;
  const stream = createNotificationStream(watch, FAST);
  const stop = stream.subscribe({ onReload: () => reloads++ });
  await until(() => cursors.length >= 3 && stream.state.get() === "live", "a fresh start");
  assert.deepEqual(cursors.slice(0, 3), ["", "7.x", ""]);
  assert.equal(reloads, 2, "the first start and the fresh start after the refused cursor");
  stop();
  await until(() => stream.state.get() === "idle", "idle");
});

Deno.test("a silent connection is dropped and reopened; one stream serves every view", async () => {
  let calls = 0;
  let aborted = 0;
  const watch: WatchCall = (_request, { signal }) => {
    calls++;
    signal.addEventListener("abort", () => aborted++);
    return (async function* () {
      yield keepAlive(`${calls}.k`);
      yield* hangUntilAborted(signal);
    })();
  };
  const stream = createNotificationStream(watch, { ...FAST, silenceMs: 30 });
  const stopA = stream.subscribe({});
  const stopB = stream.subscribe({});
  await until(() => calls >= 3, "two reconnects after silence");
  assert.ok(aborted >= 2, "the silent connections were cut");
  stopA();
  await wait(30);
  assert.notEqual(stream.state.get(), "idle", "open while a view still listens");
  const before = calls;
  const stopC = stream.subscribe({});
  assert.equal(calls, before, "a new view joins the open stream");
  stopB();
  stopC();
  await until(() => stream.state.get() === "idle", "idle");
});

Deno.test("a view that comes back within the linger keeps the same stream", async () => {
  let calls = 0;
  const watch: WatchCall = (_request, { signal }) => {
    calls++;
    return (async function* () {
      yield keepAlive("1.a");
      yield* hangUntilAborted(signal);
    })();
  };
  const stream = createNotificationStream(watch, { ...FAST, lingerMs: 50 });
  const first = stream.subscribe({});
  await until(() => stream.state.get() === "live", "live");
  first(); // a page change: the old view leaves, the new one comes
  const second = stream.subscribe({});
  await wait(80);
  assert.equal(calls, 1, "no reconnect for a page change");
  second();
  await until(() => stream.state.get() === "idle", "idle");
});

Deno.test("reloads asked for during a load make one more load, not one each", async () => {
  let loads = 0;
  let release: (() => void) | undefined;
  const values: number[] = [];
  const reloader = startReloader(async () => {
    loads++;
    if (loads === 2) await new Promise<void>((resolve) => release = resolve);
    return loads;
  }, { refreshMs: 0, onValue: (v) => values.push(v) });
  await until(() => values.length === 1, "the first load");
  reloader.reload();
  reloader.reload();
  await until(() => release !== undefined, "the second load to start");
  for (let i = 0; i < 5; i++) reloader.reload(); // a burst of notifications during the load
  release!();
  await until(() => values.length === 3, "the load after the burst");
  await wait(80);
  assert.equal(loads, 3, "one load for the two reloads, one for the burst, no timer");
  reloader.stop();
});

Deno.test("a failed load retries with backoff until it succeeds; the safety net reloads", async () => {
  const outcomes = ["fail", "fail", "ok", "ok", "ok"];
  let loads = 0;
  const values: number[] = [];
  const errors: unknown[] = [];
  const reloader = startReloader((signal) => {
    assert.ok(signal instanceof AbortSignal);
    const outcome = outcomes[Math.min(loads++, outcomes.length - 1)];
    return outcome === "ok" ? Promise.resolve(loads) : Promise.reject(new Error("down"));
  }, {
    refreshMs: 25,
    retry: { firstMs: 5, maxMs: 10, jitter: 0 },
    onValue: (v) => values.push(v),
    onError: (e) => errors.push(e),
  });
  await until(() => values.length >= 3, "recovery and two safety-net reloads");
  reloader.stop();
  assert.equal(errors.length, 2);
  assert.deepEqual(values.slice(0, 3), [3, 4, 5]);
  const after = loads;
  await wait(60);
  assert.equal(loads, after, "nothing after stop");
});

Deno.test("a stream ended by an expired token tells the page and resumes with the next token", async () => {
  let token = "old";
  const calls: Array<{ cursor: string; token: string }> = [];
  const watch: WatchCall = (request, options) => {
    calls.push({ cursor: request.cursor, token });
    if (calls.length === 1) {
      return (async function* () {
        yield keepAlive("1.a");
        yield offered("2.b", "task-1");
        throw new ConnectError("the token has expired", Code.Unauthenticated);
      })();
    }
    return (async function* () {
      yield keepAlive(request.cursor || "9.z");
      yield* hangUntilAborted(options.signal);
    })();
  };
  const errors: unknown[] = [];
  const expired: unknown[] = [];
  const stream = createNotificationStream(watch, {
    ...FAST,
    onError: (e) => errors.push(e),
    onUnauthenticated: (e) => {
      expired.push(e);
      token = "fresh"; // the page signs in again
    },
  });
  const stop = stream.subscribe({});
  await until(() => calls.length >= 2 && stream.state.get() === "live", "the second connection");
  assert.equal(expired.length, 1);
  assert.deepEqual(errors, [], "an expired token is not a reachability problem");
  assert.deepEqual(calls[1], { cursor: "2.b", token: "fresh" }, "resumed, with the new token");
  stop();
  await until(() => stream.state.get() === "idle", "the stream to close");
});
