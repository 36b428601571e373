/**
 * developerFacts (one statement: history and presence, used by each matching attempt) on a random
 * corpus of proposals, assigned tasks and presence rows in a throwaway PostgreSQL, against the
 * stats and offline set counted here from what was inserted, and against offlineAmong.
 */
import assert from "node:assert/strict";
import { Database, migrate, readMigrations } from "@platform/lib/db";
import type { DeveloperStats } from "../../services/orchestrator/matching/scoring.ts";
import { ProposalStore } from "../../services/orchestrator/proposal_store.ts";
import { PostgresServer } from "../harness/postgres_server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false };

Deno.test(
  { name: "developerFacts counts what was inserted; offline as offlineAmong", ...opts },
  async () => {
    const pg = await PostgresServer.start();
    const db = new Database(await pg.createDatabase("orchestrator_facts"), {
      maxConnections: 4,
      maxLifetimeSeconds: 60,
      idleTimeoutSeconds: 10,
      connectTimeoutSeconds: 5,
      queryTimeoutMs: 15_000,
    }, "facts-test");
    try {
      await migrate(
        db.sql,
        "orchestrator",
        await readMigrations(new URL("../../services/orchestrator/migrations/", import.meta.url)),
      );
      const store = new ProposalStore(db);
      const developers = Array.from({ length: 60 }, () => crypto.randomUUID());
      const client = crypto.randomUUID();
      let seed = 3;
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
      const statuses = ["PENDING", "ACCEPTED", "DECLINED", "EXPIRED", "WITHDRAWN"];
      const inserted: { developer: string; status: string; ageSeconds: number }[] = [];
      const assignedTo = new Map<string, number>();
      const offlineSet = new Set<string>();
      for (let t = 0; t < 80; t++) {
        const taskId = crypto.randomUUID();
        const assigned = random() < 0.2 ? developers[Math.floor(random() * 40)] : null;
        await db.sql`
        INSERT INTO match_tasks (task_id, client_id, state, assigned_developer_id)
        VALUES (${taskId}, ${client}, ${assigned ? "ASSIGNED" : "PROPOSED"}, ${assigned})`;
        if (assigned) assignedTo.set(assigned, (assignedTo.get(assigned) ?? 0) + 1);
        const chosen = new Set(developers.filter(() => random() < 0.08).slice(0, 6));
        for (const developer of chosen) {
          const status = statuses[Math.floor(random() * statuses.length)];
          // Ages clear of the windows' edges, so the seconds the test takes cannot move one.
          let ageSeconds = Math.floor(random() * 7200);
          if (Math.abs(ageSeconds - 60) < 10 || Math.abs(ageSeconds - 3600) < 10) ageSeconds += 20;
          const ok = await db.sql`
          INSERT INTO proposals (task_id, developer_id, score, status, expires_at, created_at)
          VALUES (${taskId}, ${developer}, 0.5, ${status}, now() + interval '1 day',
                  now() - make_interval(secs => ${ageSeconds}))`.then(() => true, () => false);
          if (ok) inserted.push({ developer, status, ageSeconds });
        }
      }
      for (const developer of developers) {
        if (random() < 0.5) {
          const online = random() < 0.5;
          await db.sql`
          INSERT INTO developer_presence (developer_id, online, changed_at)
          VALUES (${developer}, ${online}, now())`;
          if (!online) offlineSet.add(developer);
        }
      }
      for (const window of [60, 3600, 86_400]) {
        const ids = [...developers, crypto.randomUUID()]; // one nobody knows
        const facts = await store.developers.developerFacts(db.sql, ids, window);
        const offline = await store.developers.offlineAmong(db.sql, ids);
        const stats = new Map<string, DeveloperStats>();
        for (const p of inserted) {
          const s = stats.get(p.developer) ??
            {
              accepted: 0,
              declined: 0,
              expired: 0,
              open: assignedTo.get(p.developer) ?? 0,
              recent: 0,
            };
          if (p.status === "ACCEPTED") s.accepted++;
          if (p.status === "DECLINED") s.declined++;
          if (p.status === "EXPIRED") s.expired++;
          if (p.status === "PENDING") s.open++;
          if (p.ageSeconds < window) s.recent++;
          stats.set(p.developer, s);
        }
        assert.deepEqual(
          Object.fromEntries([...facts.stats].sort()),
          Object.fromEntries([...stats].sort()),
        );
        assert.deepEqual([...facts.offline].sort(), [...offlineSet].sort());
        assert.deepEqual([...offline].sort(), [...offlineSet].sort());
        assert.ok(stats.size > 10, `only ${stats.size} developers with history`);
        assert.ok(offline.size > 3, `only ${offline.size} offline`);
      }
      assert.deepEqual(await store.developers.developerFacts(db.sql, [], 60), {
        stats: new Map(),
        offline: new Set(),
      });
    } finally {
      await db.close(1);
      await pg.destroy();
    }
  },
);
