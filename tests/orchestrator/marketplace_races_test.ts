/**
 * The marketplace's races, each run on 50 tasks at once over a real PostgreSQL, with the events
 * between the services delivered shuffled, concurrently and some twice (loop_sim.ts). Whatever
 * the interleaving, every task ends in one consistent state, the same in both services:
 *
 * - Task Service ASSIGNED <=> Orchestrator ASSIGNED, with exactly one ACCEPTED proposal, the
 *   assignee's, on the task's current terms, and nothing PENDING;
 * - CANCELLED or EXPIRED <=> CLOSED, with nothing ACCEPTED or PENDING (an acceptance that lost is
 *   CANCELLED and its developer told);
 * - OPEN <=> still matching, with nothing ACCEPTED, and PENDING proposals only on the current
 *   terms and only for developers not known to be offline;
 * - who holds a proposal, as the Task Service keeps it, matches the Orchestrator's proposals.
 *
 * Races: edit + accept, cancel + accept (issue 15: both used to succeed, leaving the task
 * CANCELLED and the proposal ACCEPTED), deadline + accept, offline + accept. No transaction may
 * deadlock.
 */
import assert from "node:assert/strict";
import { FailedPreconditionError } from "@platform/lib/errors";
import { PostgresServer } from "../harness/postgres_server.ts";
import { LoopSim } from "./loop_sim.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false };
const RUNS = 50;

interface Setup {
  taskId: string;
  clientId: string;
  developers: string[];
  skill: string;
}

Deno.test({ name: "marketplace races end in one consistent state", ...opts }, async (t) => {
  const pg = await PostgresServer.start();
  const sim = await LoopSim.start(pg, "marketplace_races");
  try {
    /** A task proposed to two developers (of three with its skill), its events delivered. */
    const setUp = async (deadline: Date | null = null): Promise<Setup> => {
      const clientId = crypto.randomUUID();
      const skill = `s${crypto.randomUUID().slice(0, 8)}`;
      const developers = [0, 1, 2].map(() => crypto.randomUUID());
      sim.directory.set(
        skill,
        developers.map((developerId) => ({ developerId, skillTags: [skill] })),
      );
      const task = await sim.tasks.create({
        clientId,
        title: "Race me",
        description: "",
        requiredSkills: [skill],
        budgetMinor: 100_000n,
        currency: "USD",
        deadline,
      }, clientId);
      return { taskId: task.id, clientId, developers, skill };
    };
    const pendingOf = async (taskId: string) =>
      await sim.db.sql<{ id: string; developer_id: string }[]>`
        SELECT id, developer_id FROM proposals WHERE task_id = ${taskId} AND status = 'PENDING'
        ORDER BY developer_id`;
    /** Accepts, tolerating only the refusals a race may cause. */
    const accept = async (proposalId: string, developerId: string) => {
      try {
        await sim.orchestrator.respond({ proposalId, developerId, accept: true });
        return "accepted";
      } catch (error) {
        if (error instanceof FailedPreconditionError) return "refused";
        throw error;
      }
    };
    // Each side of a race starts at a random moment within 600 ms, while events flow.
    const jitter = () => new Promise((r) => setTimeout(r, Math.random() * 600));

    const check = async (s: Setup) => {
      const [task] = await sim.db.sql<
        { status: string; assigned_developer_id: string | null; terms_version: number }[]
      >`SELECT status, assigned_developer_id, terms_version FROM tasks WHERE id = ${s.taskId}`;
      const [match] = await sim.db.sql<{ state: string; terms_version: number }[]>`
        SELECT state, terms_version FROM match_tasks WHERE task_id = ${s.taskId}`;
      const proposals = await sim.db.sql<
        { id: string; developer_id: string; status: string; terms_version: number }[]
      >`SELECT id, developer_id, status, terms_version FROM proposals WHERE task_id = ${s.taskId}`;
      const accepted = proposals.filter((p) => p.status === "ACCEPTED");
      const pending = proposals.filter((p) => p.status === "PENDING");
      const where = `task ${s.taskId}: ${task.status}/${match.state} ${
        JSON.stringify(proposals.map((p) => [p.status, p.terms_version]))
      }`;
      assert.equal(match.terms_version, task.terms_version, where);
      if (task.status === "ASSIGNED") {
        assert.equal(match.state, "ASSIGNED", where);
        assert.equal(accepted.length, 1, where);
        assert.equal(accepted[0].developer_id, task.assigned_developer_id, where);
        assert.equal(accepted[0].terms_version, task.terms_version, where);
        assert.equal(pending.length, 0, where);
      } else if (task.status === "CANCELLED" || task.status === "EXPIRED") {
        assert.equal(match.state, "CLOSED", where);
        assert.equal(accepted.length, 0, where);
        assert.equal(pending.length, 0, where);
        for (const p of proposals.filter((p) => p.status === "CANCELLED")) {
          assert.equal(sim.notified(p.developer_id, "proposal_cancelled").length >= 1, true, where);
        }
      } else {
        assert.equal(task.status, "OPEN", where);
        assert.ok(!["ASSIGNED", "CLOSED"].includes(match.state), where);
        assert.equal(accepted.length, 0, where);
        assert.ok(pending.every((p) => p.terms_version === task.terms_version), where);
        const offline = await sim.db.sql<{ developer_id: string }[]>`
          SELECT developer_id FROM developer_presence WHERE NOT online`;
        const gone = new Set(offline.map((r) => r.developer_id));
        assert.ok(pending.every((p) => !gone.has(p.developer_id)), where);
      }
      // The Task Service's view of who holds a proposal is the Orchestrator's.
      const holders = await sim.db.sql<{ developer_id: string }[]>`
        SELECT developer_id FROM task_proposal_holders WHERE task_id = ${s.taskId} AND holding
        ORDER BY developer_id`;
      assert.deepEqual(
        holders.map((h) => h.developer_id),
        [...accepted, ...pending].map((p) => p.developer_id).sort(),
        `holders of ${where}`,
      );
      return task.status;
    };

    const run = async (
      name: string,
      race: (s: Setup) => Promise<string>,
      deadline?: () => Date,
    ) => {
      const setups = await Promise.all(
        Array.from({ length: RUNS }, () => setUp(deadline ? new Date(Date.now() + 600_000) : null)),
      );
      await sim.drain();
      for (const s of setups) assert.equal((await pendingOf(s.taskId)).length, 2, name);
      if (deadline) {
        // Bring the deadline close only now that every task is proposed (setting up 50 tasks on
        // a loaded machine takes longer than any deadline a race wants), in both services, as if
        // each task had been created with it.
        const ids = setups.map((s) => s.taskId);
        const at = deadline();
        await sim.db.sql`UPDATE tasks SET deadline = ${at} WHERE id = ANY(${ids}::uuid[])`;
        await sim.db.sql`
          UPDATE match_tasks SET deadline = ${at} WHERE task_id = ANY(${ids}::uuid[])`;
        await sim.db.sql`
          UPDATE match_task_terms SET deadline = ${at} WHERE task_id = ANY(${ids}::uuid[])`;
        await sim.db.sql`
          UPDATE proposals SET expires_at = LEAST(expires_at, ${at})
          WHERE task_id = ANY(${ids}::uuid[])`;
      }
      const racing = Promise.all(setups.map(race));
      await Promise.all([racing, sim.pump(racing)]);
      const outcomes = await racing;
      await sim.drain();
      const ends = new Map<string, number>();
      for (const [i, s] of setups.entries()) {
        const end = `${outcomes[i]} -> ${await check(s)}`;
        ends.set(end, (ends.get(end) ?? 0) + 1);
      }
      if (Deno.env.get("RACE_LOG")) console.log(name, Object.fromEntries(ends));
      return ends;
    };

    await t.step(`cancel + accept, ${RUNS} times`, async () => {
      const ends = await run("cancel+accept", async (s) => {
        const [p] = await pendingOf(s.taskId);
        const [answer] = await Promise.all([
          jitter().then(() => accept(p.id, p.developer_id)),
          jitter().then(() =>
            sim.tasks.transition({ taskId: s.taskId, action: "cancel", actorId: s.clientId })
          ),
        ]).catch((error) => {
          // The cancel may lose to the assignment and then cancel an ASSIGNED task: also legal.
          if (!(error instanceof FailedPreconditionError)) throw error;
          return ["accepted"];
        });
        return answer;
      });
      // Every end is CANCELLED (cancel is allowed from OPEN and ASSIGNED).
      for (const end of ends.keys()) assert.match(end, /-> CANCELLED$/, [...ends].join("; "));
    });

    await t.step(`edit + accept, ${RUNS} times`, async () => {
      const ends = await run("edit+accept", async (s) => {
        const [p] = await pendingOf(s.taskId);
        const [answer] = await Promise.all([
          jitter().then(() => accept(p.id, p.developer_id)),
          jitter().then(() =>
            sim.tasks.update(s.taskId, { budgetMinor: 150_000n }, () => {}, s.clientId).catch(
              (error) => {
                if (!(error instanceof FailedPreconditionError)) throw error;
              },
            )
          ),
        ]);
        return answer;
      });
      for (const end of ends.keys()) assert.match(end, /-> (ASSIGNED|OPEN)$/, [...ends].join("; "));
    });

    await t.step(`deadline + accept, ${RUNS} times`, async () => {
      const ends = await run("deadline+accept", async (s) => {
        const [p] = await pendingOf(s.taskId);
        const [{ deadline }] = await sim.db.sql<{ deadline: Date }[]>`
          SELECT deadline FROM tasks WHERE id = ${s.taskId}`;
        // Accept in the last second before the deadline or just after, while the expiry sweeps.
        const at = deadline.getTime() - 1000 + Math.random() * 1300;
        const [answer] = await Promise.all([
          new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())))
            .then(() => accept(p.id, p.developer_id)),
          (async () => {
            while (Date.now() < deadline.getTime() + 400) {
              await sim.tasks.expireDue(100);
              await new Promise((r) => setTimeout(r, 20));
            }
          })(),
        ]);
        return answer as string;
      }, () => new Date(Date.now() + 1500));
      for (const end of ends.keys()) {
        assert.match(end, /^(accepted -> ASSIGNED|accepted -> EXPIRED|refused -> EXPIRED)$/, end);
      }
    });

    await t.step(`offline + accept, ${RUNS} times`, async () => {
      const users = sim.presence();
      const ends = await run("offline+accept", async (s) => {
        const [p] = await pendingOf(s.taskId);
        // The developer is a real User Service account, online, who goes offline.
        await sim.db.sql`
          INSERT INTO users (id, email, password_hash, role, is_online, online_until, skill_tags)
          VALUES (${p.developer_id}, ${`${p.developer_id}@example.com`}, 'x', 'developer', true,
                  now() + interval '1 hour', ${sim.db.sql.json([s.skill])})`;
        const [answer] = await Promise.all([
          jitter().then(() => accept(p.id, p.developer_id)),
          jitter().then(async () => {
            sim.offline.add(p.developer_id);
            await users.goOffline(p.developer_id);
          }),
        ]);
        return answer;
      });
      for (const end of ends.keys()) {
        assert.match(end, /^(accepted -> ASSIGNED|refused -> OPEN)$/, [...ends].join("; "));
      }
    });

    await t.step("no transaction deadlocked", () => {
      if (Deno.env.get("RACE_LOG")) console.log("retried", Object.fromEntries(sim.retried));
      assert.equal(sim.retried.get("40P01") ?? 0, 0, JSON.stringify([...sim.retried]));
    });
  } finally {
    await sim.close();
    await pg.destroy();
  }
});
