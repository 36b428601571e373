/**
 * Lock order (match_tasks before proposals) against a throwaway PostgreSQL: many answers
 * (accepts, declines, late answers) race the expiry sweep on proposals expiring at that moment.
 * With the sweep locking proposals first, an answer locking the task first deadlocked (40P01).
 * No call may fail other than with `failed_precondition`, and no task may be left PROPOSED
 * without a PENDING proposal.
 */
import assert from "node:assert/strict";
import { type HandlerContext } from "@connectrpc/connect";
import { createContextValues } from "@connectrpc/connect";
import { Decision } from "@platform/proto/orchestrator/v1";
import { principalKey } from "@platform/lib/auth";
import { Database, migrate, readMigrations } from "@platform/lib/db";
import { FailedPreconditionError } from "@platform/lib/errors";
import { Logger } from "@platform/lib/log";
import { ExpirySweeper } from "../../services/orchestrator/expiry_sweeper.ts";
import type { Matcher } from "../../services/orchestrator/matcher.ts";
import { ProposalCommands } from "../../services/orchestrator/proposal_commands.ts";
import { proposalHandlers } from "../../services/orchestrator/proposal_handlers.ts";
import { ProposalStore } from "../../services/orchestrator/proposal_store.ts";
import { PostgresServer } from "../harness/postgres_server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false };

const TASKS = 40;
const ROUNDS = 3;

Deno.test({ name: "answers racing the expiry sweep do not deadlock", ...opts }, async (t) => {
  const pg = await PostgresServer.start();
  const db = new Database(await pg.createDatabase("orchestrator_locks"), {
    maxConnections: 24,
    maxLifetimeSeconds: 60,
    idleTimeoutSeconds: 10,
    connectTimeoutSeconds: 5,
    queryTimeoutMs: 15_000,
  }, "lock-order-test");
  try {
    await migrate(
      db.sql,
      "orchestrator",
      await readMigrations(new URL("../../services/orchestrator/migrations/", import.meta.url)),
    );
    const logger = new Logger("test", "error");
    const commands = new ProposalCommands(new ProposalStore(db), { logger });
    const handlers = proposalHandlers({ commands });
    const matcher = {
      attempt: () => Promise.resolve({ kind: "skipped", reason: "test" }),
    } as unknown as Matcher;
    const sweeper = new ExpirySweeper(commands, matcher, logger, {
      intervalMs: 1000,
      leaseSeconds: 3600,
    });
    const ctxOf = (developerId: string) =>
      ({
        values: createContextValues().set(principalKey, {
          subject: developerId,
          role: "developer",
        }),
      }) as unknown as HandlerContext;

    const insertTask = async (expiresInMs: number[]) => {
      const taskId = crypto.randomUUID();
      await db.sql`
        INSERT INTO match_tasks (task_id, client_id, title, required_skills, state, attempts,
                                 next_attempt_at, task_created_at)
        VALUES (${taskId}, ${crypto.randomUUID()}, 't', '["go"]'::jsonb, 'PROPOSED', 1,
                NULL, now())`;
      const proposals = [];
      for (const ms of expiresInMs) {
        const dev = crypto.randomUUID();
        const [row] = await db.sql<{ id: string }[]>`
          INSERT INTO proposals (task_id, developer_id, score, expires_at)
          VALUES (${taskId}, ${dev}, 0.5, now() + make_interval(secs => ${ms / 1000}))
          RETURNING id`;
        proposals.push({ id: row.id, dev });
      }
      return { taskId, proposals };
    };
    const lockWaiters = async () =>
      (await db.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`)[0].n;

    await t.step("an answer holding its task while the sweep expires its proposal", async () => {
      // A is due and answered. The task is held here (only to line the two up); the answer waits
      // for it, then the sweep. Once released, the answer has the task and wants A: a sweep that
      // locked A before the task would now wait for the task, and the two deadlock (40P01).
      const { taskId, proposals: [a] } = await insertTask([-1000]);
      const holder = await db.sql.reserve();
      try {
        await holder`BEGIN`;
        await holder`SELECT 1 FROM match_tasks WHERE task_id = ${taskId} FOR UPDATE`;
        const answer = Promise.resolve().then(() =>
          handlers.respondToProposal(
            { proposalId: a.id, decision: Decision.ACCEPT } as never,
            ctxOf(a.dev),
          )
        );
        answer.catch(() => {});
        while (await lockWaiters() < 1) await new Promise((r) => setTimeout(r, 10));
        let swept = false;
        const sweep = commands.expireDueProposals(500).finally(() => (swept = true));
        sweep.catch(() => {});
        // Either the sweep skips the locked task and ends, or it waits for the task's lock.
        while (!swept && await lockWaiters() < 2) await new Promise((r) => setTimeout(r, 10));
        await holder`COMMIT`;
        await assert.rejects(answer, (e) => e instanceof FailedPreconditionError);
        await sweep;
        const [row] = await db.sql<{ status: string; state: string }[]>`
          SELECT p.status, m.state FROM proposals p JOIN match_tasks m USING (task_id)
          WHERE p.id = ${a.id}`;
        assert.deepEqual({ ...row }, { status: "EXPIRED", state: "PENDING" });
      } finally {
        await holder`ROLLBACK`.catch(() => {});
        holder.release();
      }
    });

    const failures: unknown[] = [];
    const expected = (error: unknown) => {
      if (!(error instanceof FailedPreconditionError)) failures.push(error);
    };

    await t.step("many answers racing sweeps on expiring proposals", async () => {
      for (let round = 0; round < ROUNDS; round++) {
        // Each task: PROPOSED with three PENDING proposals, the first (and in every other task the
        // second) expiring right now, within a few ms; the answers go to all three at once.
        const tasks: Array<{ taskId: string; proposals: Array<{ id: string; dev: string }> }> = [];
        for (let i = 0; i < TASKS; i++) {
          const ms = Math.floor(Math.random() * 40) - 10;
          tasks.push(await insertTask([ms, i % 2 === 0 ? ms + 5 : 60_000, 60_000]));
        }
        const answers: Promise<void>[] = [];
        for (const [i, task] of tasks.entries()) {
          for (const [j, p] of task.proposals.entries()) {
            const decision = (i + j) % 3 === 0 ? Decision.DECLINE : Decision.ACCEPT;
            answers.push(
              Promise.resolve()
                .then(() =>
                  handlers.respondToProposal({ proposalId: p.id, decision } as never, ctxOf(p.dev))
                )
                .then(() => {}, expected),
            );
          }
        }
        // Sweeps run over and over while the answers are in flight.
        let answering = true;
        const sweeps = [0, 1, 2, 3].map(async (k) => {
          while (answering) {
            try {
              if (k % 2 === 0) await sweeper.sweepOnce();
              else await commands.expireDueProposals(3);
            } catch (error) {
              failures.push(error);
            }
          }
        });
        await Promise.all(answers);
        answering = false;
        await Promise.all(sweeps);
        await commands.expireDueProposals(500);

        assert.deepEqual(failures.map((e) => String(e)), [], "no call failed but as expected");
        const stranded = await db.sql<{ task_id: string }[]>`
          SELECT m.task_id FROM match_tasks m
          WHERE m.state = 'PROPOSED'
            AND NOT EXISTS (SELECT 1 FROM proposals p
                            WHERE p.task_id = m.task_id AND p.status = 'PENDING')`;
        assert.deepEqual(
          stranded.map((r) => r.task_id),
          [],
          "no task PROPOSED without a pending proposal",
        );
        const inconsistent = await db.sql<{ task_id: string }[]>`
          SELECT m.task_id FROM match_tasks m
          WHERE (m.state = 'ASSIGNED') <> EXISTS (SELECT 1 FROM proposals p
                                                  WHERE p.task_id = m.task_id
                                                    AND p.status = 'ACCEPTED')
             OR (m.state = 'ASSIGNED' AND EXISTS (SELECT 1 FROM proposals p
                                                  WHERE p.task_id = m.task_id
                                                    AND p.status = 'PENDING'))`;
        assert.deepEqual(
          inconsistent.map((r) => r.task_id),
          [],
          "an assigned task has its acceptance and no pending",
        );
      }
    });
  } finally {
    await db.close(1);
    await pg.destroy();
  }
});
