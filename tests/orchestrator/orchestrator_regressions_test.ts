/**
 * Regressions found in review, against real PostgreSQL, NATS and the User Service: events of a
 * task that arrive before its task.created, an assignment that overrides the recorded acceptance,
 * a late answer to an expired proposal, tasks stranded in PROPOSED, the per-task metrics, a
 * candidate window full of ineligible developers, and probing for task ids.
 *
 * The orchestrator here sweeps only when poked (a decline or a late answer), so each step sees
 * the event or RPC path alone. (It used to set `CANDIDATE_LIMIT`, a setting of the matcher's
 * fallback candidate path, which no service used and is gone: candidates come from RankCandidates.)
 */
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { TaskAssignedSchema, TaskStatusChangedSchema } from "@platform/proto/events/v1";
import { Decision, MatchState } from "@platform/proto/orchestrator/v1";
import { TaskStatus } from "@platform/proto/tasks/v1";
import { Database } from "@platform/lib/db";
import { encodeEvent } from "@platform/lib/events";
import { Logger } from "@platform/lib/log";
import { ExpirySweeper } from "../../services/orchestrator/expiry_sweeper.ts";
import type { Matcher } from "../../services/orchestrator/matcher.ts";
import { ProposalCommands } from "../../services/orchestrator/proposal_commands.ts";
import { ProposalStore } from "../../services/orchestrator/proposal_store.ts";
import { PlatformEnv } from "./orchestrator_env.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false };

const unique = (prefix: string) => `${prefix}${crypto.randomUUID().slice(0, 6)}`;

Deno.test({ name: "orchestrator regressions", ...opts }, async (t) => {
  const env = await PlatformEnv.start();
  try {
    const orchestrator = await env.startOrchestrator({
      SWEEP_INTERVAL_MS: "3600000",
    });
    const client = await env.signUp("client");
    const taskRow = async (taskId: string) =>
      (await env.sql!<
        {
          state: string;
          client_id: string | null;
          assigned_developer_id: string | null;
          attempts: number;
        }[]
      >`SELECT state, client_id, assigned_developer_id, attempts
        FROM match_tasks WHERE task_id = ${taskId}`)[0];
    const waitForProposals = (taskId: string, n: number) =>
      env.eventually(async () => {
        const rows = await env.proposals(taskId);
        if (rows.length < n) throw new Error(`${rows.length} proposals`);
        return rows;
      }, `${n} proposals`);

    await t.step("a cancel or assignment before task.created: no proposals", async () => {
      const skill = unique("tomb");
      const dev = await env.signUp("developer", [skill]);
      const cancelled = crypto.randomUUID();
      const assigned = crypto.randomUUID();
      await env.js.publish(
        "task.status_changed",
        encodeEvent(
          TaskStatusChangedSchema,
          create(TaskStatusChangedSchema, {
            eventId: crypto.randomUUID(),
            taskId: cancelled,
            from: TaskStatus.OPEN,
            to: TaskStatus.CANCELLED,
          }),
        ),
      );
      await env.js.publish(
        "task.assigned",
        encodeEvent(
          TaskAssignedSchema,
          create(TaskAssignedSchema, {
            eventId: crypto.randomUUID(),
            taskId: assigned,
            developerId: dev.id,
          }),
        ),
      );
      await env.eventually(
        async () => {
          if (!(await taskRow(cancelled)) || !(await taskRow(assigned))) {
            throw new Error("events not handled");
          }
        },
        "task events handled",
        10_000,
      );
      for (const taskId of [cancelled, assigned]) {
        await env.publishTaskCreated({ taskId, clientId: client.id, skills: [skill] });
      }
      await env.eventually(async () => {
        const rows = await Promise.all([taskRow(cancelled), taskRow(assigned)]);
        if (rows.some((r) => r.client_id !== client.id)) throw new Error("not yet");
      }, "task.created handled");
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await env.proposals(cancelled)).length, 0);
      assert.equal((await env.proposals(assigned)).length, 0);
      const closed = await env.orchestrator(client.token).getMatchStatus({ taskId: cancelled });
      assert.equal(closed.state, MatchState.CLOSED);
      const taken = await env.orchestrator(client.token).getMatchStatus({ taskId: assigned });
      assert.equal(taken.state, MatchState.ASSIGNED);
      assert.equal(taken.assignedDeveloperId, dev.id);
    });

    await t.step("task.assigned naming another developer replaces the acceptance", async () => {
      const skill = unique("stale");
      const devs = [await env.signUp("developer", [skill]), await env.signUp("developer", [skill])];
      const taskId = await env.publishTaskCreated({ clientId: client.id, skills: [skill] });
      const rows = await waitForProposals(taskId, 2);
      const y = devs.find((d) => d.id === rows[0].developer_id)!;
      const x = devs.find((d) => d.id !== y.id)!;
      await env.orchestrator(y.token).respondToProposal({
        proposalId: rows[0].id,
        decision: Decision.ACCEPT,
      });
      assert.equal((await taskRow(taskId)).assigned_developer_id, y.id);
      await env.js.publish(
        "task.assigned",
        encodeEvent(
          TaskAssignedSchema,
          create(TaskAssignedSchema, { eventId: crypto.randomUUID(), taskId, developerId: x.id }),
        ),
      );
      await env.eventually(
        async () => {
          if ((await taskRow(taskId)).assigned_developer_id !== x.id) throw new Error("stale");
        },
        "assignee replaced",
        10_000,
      );
      const after = await env.proposals(taskId);
      assert.equal(after.find((p) => p.developer_id === y.id)!.status, "WITHDRAWN");
      assert.equal(after.filter((p) => p.status === "ACCEPTED").length, 0);
      assert.equal((await taskRow(taskId)).state, "ASSIGNED");
    });

    await t.step(
      "an answer after expiry, before the sweeper, puts the task back to matching",
      async () => {
        const skill = unique("late");
        const first = await env.signUp("developer", [skill]);
        const taskId = await env.publishTaskCreated({ clientId: client.id, skills: [skill] });
        const [proposal] = await waitForProposals(taskId, 1);
        const next = await env.signUp("developer", [skill]);
        await env.sql!`UPDATE proposals SET expires_at = now() - interval '1 second'
                       WHERE id = ${proposal.id}`;
        await assert.rejects(
          env.orchestrator(first.token).respondToProposal({
            proposalId: proposal.id,
            decision: Decision.ACCEPT,
          }),
          (e) => ConnectError.from(e).code === Code.FailedPrecondition,
        );
        const rows = await env.eventually(
          async () => {
            const r = (await env.proposals(taskId)).filter((p) => p.status === "PENDING");
            if (r.length < 1) throw new Error("task stranded");
            return r;
          },
          "re-match after a late answer",
          10_000,
        );
        assert.deepEqual(rows.map((p) => p.developer_id), [next.id]);
        const expired = (await env.proposals(taskId)).find((p) => p.id === proposal.id)!;
        assert.equal(expired.status, "EXPIRED");
      },
    );

    await t.step("metrics count each task once; retries separately", async () => {
      const skill = unique("metric");
      const dev = await env.signUp("developer", [skill]);
      const before = {
        attempted: await env.metric(orchestrator, "matches_attempted_total"),
        successful: await env.metric(orchestrator, "matches_successful_total"),
        retries: await env.metric(orchestrator, "match_retries_total"),
      };
      const taskId = await env.publishTaskCreated({ clientId: client.id, skills: [skill] });
      const [proposal] = await waitForProposals(taskId, 1);
      await env.orchestrator(dev.token).respondToProposal({
        proposalId: proposal.id,
        decision: Decision.DECLINE,
      });
      // The decline re-matches at once: a second attempt, which finds nobody.
      await env.eventually(
        async () => {
          const row = await taskRow(taskId);
          if (row.attempts !== 2 || row.state !== "NO_CANDIDATES") throw new Error("not yet");
        },
        "second attempt",
        10_000,
      );
      assert.equal(await env.metric(orchestrator, "matches_attempted_total"), before.attempted + 1);
      assert.equal(
        await env.metric(orchestrator, "matches_successful_total"),
        before.successful + 1,
      );
      assert.ok(await env.metric(orchestrator, "match_retries_total") >= before.retries + 1);
    });

    await t.step("the sweeper reopens a PROPOSED task left with no pending proposal", async () => {
      const skill = unique("orphan");
      await env.signUp("developer", [skill]);
      const taskId = await env.publishTaskCreated({ clientId: client.id, skills: [skill] });
      await waitForProposals(taskId, 1);
      // As if a process died between expiring the proposals and reopening the task.
      await env.sql!`UPDATE proposals SET status = 'EXPIRED' WHERE task_id = ${taskId}`;
      assert.equal((await taskRow(taskId)).state, "PROPOSED");
      const db = new Database(env.databaseUrl, {
        maxConnections: 2,
        maxLifetimeSeconds: 60,
        idleTimeoutSeconds: 10,
        connectTimeoutSeconds: 5,
        queryTimeoutMs: 5000,
      }, "regressions-test");
      try {
        const attempted: string[] = [];
        const matcher = {
          attempt: (id: string) => {
            attempted.push(id);
            return Promise.resolve({ kind: "skipped", reason: "test" });
          },
        } as unknown as Matcher;
        const logger = new Logger("test", "error");
        const sweeper = new ExpirySweeper(
          new ProposalCommands(new ProposalStore(db), { logger }),
          matcher,
          logger,
          { intervalMs: 1000, leaseSeconds: 3600 },
        );
        const round = await sweeper.sweepOnce();
        assert.ok(round.reopened >= 1, JSON.stringify(round));
        assert.ok(attempted.includes(taskId), "the reopened task was retried");
      } finally {
        await db.sql.end({ timeout: 1 });
      }
    });

    await t.step("a candidate window full of ineligible developers is paged past", async () => {
      const [a, b, c] = [unique("pa"), unique("pb"), unique("pc")];
      const full = await env.signUp("developer", [a, b, c]); // seen least recently
      await env.signUp("developer", [a]); // 1/3 of the skills: not eligible
      await env.signUp("developer", [a]);
      const taskId = await env.publishTaskCreated({ clientId: client.id, skills: [a, b, c] });
      const rows = await waitForProposals(taskId, 1);
      assert.deepEqual(rows.map((p) => p.developer_id), [full.id]);
      assert.equal((await taskRow(taskId)).state, "PROPOSED");
    });

    await t.step("unknown and someone else's tasks answer alike; bad page tokens", async () => {
      const skill = unique("probe");
      await env.signUp("developer", [skill]);
      const real = await env.publishTaskCreated({ clientId: client.id, skills: [skill] });
      await waitForProposals(real, 1);
      const unknown = crypto.randomUUID();
      const strangers = [await env.signUp("client"), await env.signUp("developer", ["x"])];
      for (const stranger of strangers) {
        const codes: Array<Code | string> = [];
        for (const taskId of [real, unknown]) {
          codes.push(
            await env.orchestrator(stranger.token).getMatchStatus({ taskId }).then(
              () => "ok",
              (e) => ConnectError.from(e).code,
            ),
          );
        }
        assert.deepEqual(codes, [Code.NotFound, Code.NotFound]);
      }
      for (const taskId of [real, unknown]) {
        await assert.rejects(
          env.orchestrator(strangers[0].token).listProposals({ taskId }),
          (e) => ConnectError.from(e).code === Code.NotFound,
        );
      }
      await assert.rejects(
        env.orchestrator(strangers[1].token).listProposals({
          pageToken: btoa(`99999999999999999999:${crypto.randomUUID()}`),
        }),
        (e) => ConnectError.from(e).code === Code.InvalidArgument,
      );
    });
  } finally {
    if (Deno.env.get("ORCH_TEST_LOGS")) {
      for (const o of env.orchestrators) console.log(o.process.lines.slice(-60).join("\n"));
    }
    await env.stop();
  }
});
