/**
 * The races of delivery and approval (issue 20), each run 50 times over a real PostgreSQL with the
 * Task Service's own commands: approve vs auto-approve (two replicas' sweeps), approve vs dispute, request changes vs
 * approve, withdraw vs start. Each time exactly one side wins (the other is
 * failed_precondition), the task is in the winner's state, and the race left one history row and
 * one event of each kind (the step's own, `task.status_changed`) — never two.
 */
import assert from "node:assert/strict";
import { Database, migrate, readMigrations } from "@platform/lib/db";
import { FailedPreconditionError } from "@platform/lib/errors";
import { DeliveryCommands } from "../../services/tasks/delivery_commands.ts";
import { TaskCommands } from "../../services/tasks/task_commands.ts";
import type { TaskRow } from "../../services/tasks/task_store.ts";
import { TaskStore } from "../../services/tasks/task_store.ts";
import { PostgresServer } from "../harness/postgres_server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false };
const RUNS = 50;
const WEEK = 7 * 86_400;

Deno.test({ name: "delivery races end in one consistent state", ...opts }, async (t) => {
  const pg = await PostgresServer.start();
  const db = new Database(await pg.createDatabase("delivery_races"), {
    maxConnections: 20,
    maxLifetimeSeconds: 300,
    idleTimeoutSeconds: 30,
    connectTimeoutSeconds: 5,
    queryTimeoutMs: 20_000,
  }, "delivery-races");
  await migrate(
    db.sql,
    "tasks",
    await readMigrations(new URL("../../services/tasks/migrations/", import.meta.url)),
  );
  const commands = new TaskCommands(new TaskStore(db));
  const delivery = new DeliveryCommands(commands);
  const jitter = () => new Promise((r) => setTimeout(r, Math.random() * 5));
  /** Runs `fn`; "won", or "lost" when refused as a race may refuse it. */
  const attempt = async (fn: () => Promise<unknown>): Promise<"won" | "lost"> => {
    await jitter();
    try {
      await fn();
      return "won";
    } catch (error) {
      if (error instanceof FailedPreconditionError) return "lost";
      throw error;
    }
  };
  const asParty = (id: string) => ({ taskId: id, authorize: () => {} });

  /** A task with approval, assigned to a developer and taken to `state`. */
  const setUp = async (state: "ASSIGNED" | "SUBMITTED") => {
    const clientId = crypto.randomUUID();
    const developerId = crypto.randomUUID();
    const task = await commands.create({
      clientId,
      title: "Race me",
      description: "",
      requiredSkills: ["deno"],
      budgetMinor: 10_000n,
      currency: "USD",
      deadline: null,
      requiresApproval: true,
    }, clientId);
    await commands.transition({
      taskId: task.id,
      action: "assign",
      actorId: "service:orchestrator",
      developerId,
    });
    if (state === "SUBMITTED") {
      await commands.transition({ taskId: task.id, action: "start", actorId: developerId });
      await delivery.submit({ ...asParty(task.id), actorId: developerId }, {
        note: "done",
        link: "",
      });
    }
    return { id: task.id, clientId, developerId };
  };
  /** What the task's history and outbox hold now, by transition and subject. */
  const record = async (id: string) => {
    const history = await db.sql<{ step: string; n: number }[]>`
      SELECT coalesce(from_status, '-') || '>' || to_status AS step, count(*)::int AS n
      FROM task_transitions WHERE task_id = ${id} GROUP BY 1`;
    const events = await db.sql<{ subject: string; n: number }[]>`
      SELECT subject, count(*)::int AS n FROM task_outbox
      WHERE payload->>'task_id' = ${id} AND subject LIKE 'task.%' GROUP BY 1`;
    const [task] = await db.sql<TaskRow[]>`SELECT * FROM tasks WHERE id = ${id}`;
    return {
      task,
      history: Object.fromEntries(history.map((r) => [r.step, r.n])),
      events: Object.fromEntries(events.map((r) => [r.subject, r.n])),
    };
  };
  /** The rows a race added: history steps and event subjects, each with its count. */
  const added = (
    before: Awaited<ReturnType<typeof record>>,
    after: Awaited<ReturnType<typeof record>>,
  ) => {
    const diff = (a: Record<string, number>, b: Record<string, number>) =>
      Object.fromEntries(
        Object.entries(b).filter(([k, n]) => n !== (a[k] ?? 0)).map((
          [k, n],
        ) => [k, n - (a[k] ?? 0)]),
      );
    return {
      history: diff(before.history, after.history),
      events: diff(before.events, after.events),
    };
  };

  try {
    await t.step(`approve vs auto-approve (two replicas sweeping), ${RUNS} times`, async () => {
      const wins = { manual: 0, auto: 0 };
      for (let i = 0; i < RUNS; i++) {
        const s = await setUp("SUBMITTED");
        await db.sql`
          UPDATE tasks SET submitted_at = now() - interval '8 days' WHERE id = ${s.id}`;
        const before = await record(s.id);
        // Two replicas' sweeps and the client's approval, at once.
        const sweep = async () => {
          await jitter();
          return await delivery.autoApproveDue(WEEK, 500);
        };
        const [manual, autoA, autoB] = await Promise.all([
          attempt(() => delivery.approve({ ...asParty(s.id), actorId: s.clientId })),
          sweep(),
          sweep(),
        ]);
        const auto = autoA + autoB;
        const after = await record(s.id);
        assert.equal(after.task.status, "COMPLETED");
        assert.equal(manual === "won" ? 0 : 1, auto, `manual ${manual}, auto ${autoA}+${autoB}`);
        assert.equal(after.task.approval_mode, manual === "won" ? "MANUAL" : "AUTO");
        wins[manual === "won" ? "manual" : "auto"]++;
        assert.deepEqual(added(before, after), {
          history: { "SUBMITTED>COMPLETED": 1 },
          events: { "task.status_changed": 1, "task.work_approved": 1 },
        });
      }
      console.log("approve vs auto-approve: wins", wins);
    });

    await t.step(`approve vs dispute, ${RUNS} times`, async () => {
      const wins = { approve: 0, dispute: 0 };
      for (let i = 0; i < RUNS; i++) {
        const s = await setUp("SUBMITTED");
        const before = await record(s.id);
        const [approve, dispute] = await Promise.all([
          attempt(() => delivery.approve({ ...asParty(s.id), actorId: s.clientId })),
          attempt(() => delivery.openDispute({ ...asParty(s.id), actorId: s.developerId }, "no")),
        ]);
        assert.notEqual(approve, dispute, "exactly one wins");
        const after = await record(s.id);
        if (approve === "won") {
          wins.approve++;
          assert.equal(after.task.status, "COMPLETED");
          assert.deepEqual(added(before, after), {
            history: { "SUBMITTED>COMPLETED": 1 },
            events: { "task.status_changed": 1, "task.work_approved": 1 },
          });
        } else {
          wins.dispute++;
          assert.equal(after.task.status, "DISPUTED");
          assert.equal(after.task.approval_mode, null);
          assert.deepEqual(added(before, after), {
            history: { "SUBMITTED>DISPUTED": 1 },
            events: { "task.status_changed": 1, "task.dispute_opened": 1 },
          });
        }
      }
      console.log("approve vs dispute: wins", wins);
    });

    await t.step(`request changes vs approve, ${RUNS} times`, async () => {
      const wins = { changes: 0, approve: 0 };
      for (let i = 0; i < RUNS; i++) {
        const s = await setUp("SUBMITTED");
        const before = await record(s.id);
        const [changes, approve] = await Promise.all([
          attempt(() => delivery.requestChanges({ ...asParty(s.id), actorId: s.clientId }, "more")),
          attempt(() => delivery.approve({ ...asParty(s.id), actorId: s.clientId })),
        ]);
        assert.notEqual(changes, approve, "exactly one wins");
        const after = await record(s.id);
        if (approve === "won") {
          wins.approve++;
          assert.equal(after.task.status, "COMPLETED");
          assert.deepEqual(added(before, after), {
            history: { "SUBMITTED>COMPLETED": 1 },
            events: { "task.status_changed": 1, "task.work_approved": 1 },
          });
        } else {
          wins.changes++;
          assert.equal(after.task.status, "IN_PROGRESS");
          assert.deepEqual(added(before, after), {
            history: { "SUBMITTED>IN_PROGRESS": 1 },
            events: { "task.status_changed": 1, "task.changes_requested": 1 },
          });
        }
      }
      console.log("request changes vs approve: wins", wins);
    });

    await t.step(`withdraw vs start, ${RUNS} times`, async () => {
      const wins = { withdraw: 0, start: 0 };
      for (let i = 0; i < RUNS; i++) {
        const s = await setUp("ASSIGNED");
        const before = await record(s.id);
        const [withdraw, start] = await Promise.all([
          attempt(() =>
            delivery.withdraw({ ...asParty(s.id), actorId: s.developerId }, "changed my mind")
          ),
          attempt(() =>
            commands.transition({
              taskId: s.id,
              action: "start",
              actorId: s.developerId,
              // As StartTask checks: only the assigned developer (none once withdrawn).
              authorize: (task) => {
                if (task.assigned_developer_id !== s.developerId) {
                  throw new FailedPreconditionError("not assigned to you any more");
                }
              },
            })
          ),
        ]);
        assert.notEqual(withdraw, start, "exactly one wins");
        const after = await record(s.id);
        if (withdraw === "won") {
          wins.withdraw++;
          assert.equal(after.task.status, "OPEN");
          assert.equal(after.task.assigned_developer_id, null);
          assert.deepEqual(added(before, after), {
            history: { "ASSIGNED>OPEN": 1 },
            events: { "task.status_changed": 1, "task.developer_withdrew": 1 },
          });
        } else {
          wins.start++;
          assert.equal(after.task.status, "IN_PROGRESS");
          assert.equal(after.task.assigned_developer_id, s.developerId);
          assert.deepEqual(added(before, after), {
            history: { "ASSIGNED>IN_PROGRESS": 1 },
            events: { "task.status_changed": 1 },
          });
        }
      }
      console.log("withdraw vs start: wins", wins);
    });
  } finally {
    await db.close();
    await pg.destroy();
  }
});
