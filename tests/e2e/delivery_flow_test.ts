/**
 * Delivery and approval, live (issue 20), through the three real services over real PostgreSQL,
 * NATS JetStream and Redis, told through each user's Watch stream:
 *
 * 1. hire (proposal accepted -> ASSIGNED), start, submit, request changes, submit again, approve:
 *    the client hears of each step, the developer of the change request and the approval; the
 *    history has one row per step;
 * 2. the hired developer withdraws before starting: the task is OPEN again, their acceptance is
 *    withdrawn (DEVELOPER_WITHDREW), and it is matched to someone else, never to them again.
 */
import assert from "node:assert/strict";
import { NotificationKind } from "@platform/proto/notifications/v1";
import { Decision, ProposalReason, ProposalStatus } from "@platform/proto/orchestrator/v1";
import { TaskService, TaskStatus } from "@platform/proto/tasks/v1";
import { rpcClient } from "../harness/rpc_clients.ts";
import { PlatformEnv } from "../orchestrator/orchestrator_env.ts";
import { WatchRecorder } from "./watch_recorder.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false };
const unique = (prefix: string) => `${prefix}${crypto.randomUUID().slice(0, 6)}`;
const K = NotificationKind;

Deno.test({ name: "e2e: delivery and approval, and withdrawal, live", ...opts }, async (t) => {
  const env = await PlatformEnv.start();
  const watches: WatchRecorder[] = [];
  try {
    const tasksService = await env.startTasks();
    const orchestrator = await env.startOrchestrator();
    const url = orchestrator.url;
    const client = await env.signUp("client");
    const tasks = rpcClient(TaskService, tasksService.url, undefined, client.token);
    const clientWatch = await WatchRecorder.open(url, client.token);
    watches.push(clientWatch);
    /** Waits for the developer's offer of the task and accepts it. */
    const hire = async (dev: { token: string }, watch: WatchRecorder, taskId: string) => {
      const offered = await watch.waitFor(K.PROPOSAL_OFFERED, (n) => n.taskId === taskId);
      const proposalId = offered.detail.case === "proposal" ? offered.detail.value.id : "";
      await env.orchestrator(dev.token).respondToProposal({
        proposalId,
        decision: Decision.ACCEPT,
      });
      await watch.waitFor(K.TASK_ASSIGNED, (n) => n.taskId === taskId);
    };
    const clientHears = (taskId: string, to: TaskStatus) =>
      clientWatch.waitFor(
        K.TASK_STATUS_CHANGED,
        (n) => n.taskId === taskId && n.detail.case === "task" && n.detail.value.to === to,
      );

    await t.step("hire, start, submit, request changes, submit again, approve", async () => {
      const skill = unique("elm");
      const dev = await env.signUp("developer", [skill]);
      const devWatch = await WatchRecorder.open(url, dev.token);
      watches.push(devWatch);
      const asDev = rpcClient(TaskService, tasksService.url, undefined, dev.token);
      const { task } = await tasks.createTask({
        title: "Build the dashboard",
        requiredSkills: [skill],
        budget: { currency: "USD", amountMinor: 250_000n },
        requiresApproval: true,
      });
      const taskId = task!.id;
      assert.equal(task!.requiresApproval, true);
      await hire(dev, devWatch, taskId);
      await asDev.startTask({ taskId });
      await asDev.submitWork({ taskId, note: "first version", link: "https://example.com/v1" });
      const submitted = await clientHears(taskId, TaskStatus.SUBMITTED);
      const change = submitted.detail.case === "task" ? submitted.detail.value : undefined;
      assert.equal(change?.task?.delivery?.link, "https://example.com/v1");
      assert.equal(change?.actorId, dev.id);
      await tasks.requestChanges({ taskId, note: "the chart is upside down" });
      const asked = await devWatch.waitFor(K.TASK_CHANGES_REQUESTED, (n) => n.taskId === taskId);
      assert.equal(
        asked.detail.case === "task" && asked.detail.value.reason,
        "the chart is upside down",
      );
      await asDev.submitWork({ taskId, note: "chart fixed" });
      await env.eventually(async () => {
        const seen = clientWatch.notifications.filter((n) =>
          n.taskId === taskId && n.detail.case === "task" &&
          n.detail.value.to === TaskStatus.SUBMITTED
        );
        if (seen.length < 2) throw new Error(`${seen.length} submissions heard`);
        return await Promise.resolve();
      }, "second submission");
      const approved = await tasks.approveWork({ taskId });
      assert.equal(approved.task?.status, TaskStatus.COMPLETED);
      assert.equal(approved.task?.delivery?.submissions, 2);
      await devWatch.waitFor(K.TASK_WORK_APPROVED, (n) => n.taskId === taskId);
      await clientHears(taskId, TaskStatus.COMPLETED);
      const history = await tasks.getTaskHistory({ taskId });
      assert.deepEqual(history.transitions.map((tr) => TaskStatus[tr.to]), [
        "OPEN",
        "ASSIGNED",
        "IN_PROGRESS",
        "SUBMITTED",
        "IN_PROGRESS",
        "SUBMITTED",
        "COMPLETED",
      ]);
      // The orchestrator closes the task; the accepted proposal stands.
      await env.eventually(async () => {
        const rows = await env.proposals(taskId);
        if (!rows.some((p) => p.status === "ACCEPTED")) throw new Error("no acceptance");
        const [m] = await env.sql!`SELECT state FROM match_tasks WHERE task_id = ${taskId}`;
        if (m.state !== "CLOSED") throw new Error(`match ${m.state}`);
      }, "match closed");
    });

    await t.step(
      "withdraw before starting: re-matched to someone else, never to them",
      async () => {
        const skill = unique("ocaml");
        const first = await env.signUp("developer", [skill]);
        const firstWatch = await WatchRecorder.open(url, first.token);
        watches.push(firstWatch);
        const { task } = await tasks.createTask({
          title: "Port the scheduler",
          requiredSkills: [skill],
          budget: { currency: "USD", amountMinor: 120_000n },
        });
        const taskId = task!.id;
        await hire(first, firstWatch, taskId);
        // A second developer comes online once the task is taken: nothing wakes an assigned task.
        const second = await env.signUp("developer", [skill]);
        const secondWatch = await WatchRecorder.open(url, second.token);
        watches.push(secondWatch);
        const asFirst = rpcClient(TaskService, tasksService.url, undefined, first.token);
        const open = await asFirst.withdrawFromTask({ taskId, reason: "double-booked" });
        assert.equal(open.task?.status, TaskStatus.OPEN);
        await clientHears(taskId, TaskStatus.OPEN);
        const gone = await firstWatch.waitFor(
          K.PROPOSAL_WITHDRAWN,
          (n) =>
            n.taskId === taskId && n.detail.case === "proposal" &&
            n.detail.value.reason === ProposalReason.DEVELOPER_WITHDREW,
        );
        assert.equal(
          gone.detail.case === "proposal" && gone.detail.value.status,
          ProposalStatus.WITHDRAWN,
        );
        await hire(second, secondWatch, taskId);
        const now = await tasks.getTask({ taskId });
        assert.equal(now.task?.status, TaskStatus.ASSIGNED);
        assert.equal(now.task?.assignedDeveloperId, second.id);
        // Never proposed to the one who stepped back again, even on new terms... (the task is
        // assigned now; the exclusion is recorded for any later re-match).
        const rows = await env.proposals(taskId);
        assert.equal(rows.filter((p) => p.developer_id === first.id).length, 1);
        const [excluded] = await env.sql!`
        SELECT count(*)::int AS n FROM match_task_withdrawn_developers
        WHERE task_id = ${taskId} AND developer_id = ${first.id}`;
        assert.equal(excluded.n, 1);
        const history = await tasks.getTaskHistory({ taskId });
        assert.deepEqual(history.transitions.map((tr) => TaskStatus[tr.to]), [
          "OPEN",
          "ASSIGNED",
          "OPEN",
          "ASSIGNED",
        ]);
      },
    );
  } finally {
    await Promise.allSettled(watches.map((w) => w.stop()));
    await env.stop();
  }
});
