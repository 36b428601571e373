import assert from "node:assert/strict";
import type { Session } from "./session.ts";
import { type SessionChannel, syncSessionAcrossTabs } from "./session_sync.ts";
import { createStore } from "./store.ts";

/** Channels of one origin, delivering as BroadcastChannel does: to every other member, later. */
function origin() {
  const members = new Set<{ listeners: Set<(event: { data: unknown }) => void> }>();
  const pending: Promise<void>[] = [];
  return {
    channel(): SessionChannel {
      const me = { listeners: new Set<(event: { data: unknown }) => void>() };
      members.add(me);
      return {
        postMessage(message) {
          const data = structuredClone(message);
          for (const other of members) {
            if (other === me) continue;
            pending.push(
              Promise.resolve().then(() => {
                for (const l of other.listeners) l({ data });
              }),
            );
          }
        },
        addEventListener: (_type, l) => void me.listeners.add(l),
        removeEventListener: (_type, l) => void me.listeners.delete(l),
      };
    },
    async settle() {
      while (pending.length) await pending.shift();
    },
  };
}

const session = (token: string, inMs = 60_000): Session => ({
  token,
  expiresAt: new Date(Date.now() + inMs).toISOString(),
  user: { id: "u1", email: "a@b.c", role: "client", displayName: "A" },
});

Deno.test("a new tab gets the open tab's session; sign-in and sign-out reach every tab", async () => {
  const o = origin();
  const first = createStore<Session | undefined>(session("t1"));
  syncSessionAcrossTabs(first, o.channel());
  const second = createStore<Session | undefined>(undefined);
  syncSessionAcrossTabs(second, o.channel());
  await o.settle();
  assert.equal(second.get()?.token, "t1", "the new tab asked and was answered");

  const third = createStore<Session | undefined>(undefined);
  syncSessionAcrossTabs(third, o.channel());
  await o.settle();
  second.set(undefined); // signing out in one tab
  await o.settle();
  assert.equal(first.get(), undefined);
  assert.equal(third.get(), undefined);

  first.set(session("t2")); // signing in again in another
  await o.settle();
  assert.equal(second.get()?.token, "t2");
  assert.equal(third.get()?.token, "t2");
});

Deno.test("an expired or malformed session from another tab is not taken", async () => {
  const o = origin();
  const tab = createStore<Session | undefined>(undefined);
  syncSessionAcrossTabs(tab, o.channel());
  const other = o.channel();
  other.postMessage({ kind: "session", session: session("old", -1000) });
  other.postMessage({ kind: "session", session: { token: 5 } });
  other.postMessage({ kind: "nonsense" });
  other.postMessage(null);
  await o.settle();
  assert.equal(tab.get(), undefined);
});

Deno.test("stopping the sync leaves the tab on its own", async () => {
  const o = origin();
  const a = createStore<Session | undefined>(undefined);
  const stop = syncSessionAcrossTabs(a, o.channel());
  const b = createStore<Session | undefined>(undefined);
  syncSessionAcrossTabs(b, o.channel());
  stop();
  b.set(session("t3"));
  await o.settle();
  assert.equal(a.get(), undefined);
});
