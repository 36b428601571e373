import assert from "node:assert/strict";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { UsersClient } from "@platform/client";
import { HEARTBEAT, keepOnline, type PresenceState } from "./presence.ts";

Deno.test("presence: online, heartbeats, back online after the TTL passed, offline on stop", async () => {
  const saved = { ...HEARTBEAT };
  Object.assign(HEARTBEAT, { minIntervalMs: 5, maxIntervalMs: 5, retryMs: 5 });
  const calls: string[] = [];
  let beats = 0;
  const expires = () => ({ expiresAt: timestampFromDate(new Date(Date.now() + 90_000)) });
  // Only the three calls presence makes; the real client is exercised by the browser tests.
  const users = {
    goOnline: () => (calls.push("goOnline"), Promise.resolve(expires())),
    heartbeat: () => {
      calls.push("heartbeat");
      beats++;
      if (beats === 2) {
        return Promise.reject(new ConnectError("you are offline", Code.FailedPrecondition));
      }
      if (beats === 3) return Promise.reject(new ConnectError("Failed to fetch", Code.Unknown));
      return Promise.resolve(expires());
    },
    goOffline: () => (calls.push("goOffline"), Promise.resolve({})),
  } as unknown as UsersClient;
  const states: PresenceState[] = [];
  try {
    const presence = keepOnline(users, (s) => states.push(s));
    await new Promise((r) => setTimeout(r, 80));
    await presence.stop();
    const after = calls.length;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(calls.length, after, "no call after stop");
    assert.deepEqual(calls.slice(0, 4), ["goOnline", "heartbeat", "heartbeat", "goOnline"]);
    assert.ok(calls.slice(4).includes("heartbeat"), "beats again after the failed one");
    assert.equal(calls.at(-1), "goOffline");
    assert.ok(states.some((s) => s.error instanceof ConnectError), "a failed heartbeat is shown");
    assert.ok(states.at(-1)?.online);
  } finally {
    Object.assign(HEARTBEAT, saved);
  }
});
