/**
 * Presence as events: the User Service publishes presence.online (with skills), .skills_changed,
 * .offline and .expired through its own outbox (user_outbox) to the PRESENCE stream, once each.
 * NATS is not critical for it: while NATS is down GoOnline and GoOffline still succeed, /health
 * says degraded (200, nats unhealthy), and the events follow when NATS is back.
 */
import assert from "node:assert/strict";
import { readStream, waitForEvents } from "../tasks/support.ts";
import { signUp, startUsersEnv } from "./users_env.ts";
import postgres from "postgres";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({ name: "presence events through user_outbox; NATS non-critical", ...opts }, async () => {
  const env = await startUsersEnv({ PRESENCE_TTL_SECONDS: "1", PRESENCE_SWEEP_MS: "200" });
  const sql = postgres(env.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const url = env.users.url;
    const dev = await signUp(url, "developer");
    await dev.client.updateProfile({ skillTags: { tags: ["Go", "sql"] } });
    await dev.client.goOnline({});
    const [online] = await waitForEvents(env.nats.url, "PRESENCE", "presence.online", 1);
    assert.deepEqual(online?.json.skill_tags, ["go", "sql"]);
    assert.equal(online?.json.user_id, dev.id);
    assert.equal(online?.msgId, online?.json.event_id);

    // Gaining a skill while online is an event; losing one, or changing nothing else, is not.
    await dev.client.heartbeat({});
    await dev.client.updateProfile({ skillTags: { tags: ["go", "sql", "rust"] } });
    await dev.client.updateProfile({ skillTags: { tags: ["go", "rust"] } });
    await dev.client.updateProfile({ bio: "hello" });
    const [skills] = await waitForEvents(env.nats.url, "PRESENCE", "presence.skills_changed", 1);
    assert.deepEqual(skills?.json.added_skills, ["rust"]);
    assert.deepEqual(skills?.json.skill_tags, ["go", "rust", "sql"]);

    await dev.client.goOffline({});
    await dev.client.goOffline({}); // already offline: no second event
    await waitForEvents(env.nats.url, "PRESENCE", "presence.offline", 1);

    // No heartbeat within the TTL: presence.expired with the last heartbeat.
    await dev.client.goOnline({});
    const expired = await waitForEvents(env.nats.url, "PRESENCE", "presence.expired", 1, 15_000);
    assert.equal(expired.length, 1);
    assert.equal(expired[0].json.user_id, dev.id);
    assert.ok(expired[0].json.last_seen_at, "the last heartbeat is carried");

    // NATS down: requests succeed, /health is degraded (200), events wait in user_outbox.
    await env.nats.stop();
    const other = await signUp(url, "developer");
    await other.client.goOnline({});
    await other.client.goOffline({});
    const health = await fetch(`${url}/health`);
    const body = await health.json();
    assert.equal(health.status, 200);
    assert.equal(body.status, "degraded");
    assert.equal(body.checks.nats, "unhealthy");
    const [{ waiting }] = await sql<{ waiting: number }[]>`
      SELECT count(*)::int AS waiting FROM user_outbox WHERE published_at IS NULL`;
    assert.ok(waiting >= 2, `${waiting} events waiting`);

    await env.nats.resume();
    const deadline = Date.now() + 20_000;
    let mine: string[] = [];
    while (Date.now() < deadline) {
      const all = await readStream(env.nats.url, "PRESENCE").catch(() => []);
      mine = all.filter((m) => m.json.user_id === other.id).map((m) => m.subject);
      if (mine.length >= 2) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(mine, ["presence.online", "presence.offline"]);
    const all = await readStream(env.nats.url, "PRESENCE");
    const ids = all.map((m) => m.msgId);
    assert.equal(new Set(ids).size, ids.length, "each event once");
  } finally {
    await sql.end({ timeout: 1 });
    await env.stop();
  }
});
