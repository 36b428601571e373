/**
 * End to end through the three real services: developers register, set skills and go online; a
 * client creates a task in the Task Service; the orchestrator proposes; a developer accepts; the
 * Task Service assigns the task (consuming proposal.accepted); the other proposals are withdrawn.
 * A cancelled task's proposals are withdrawn too.
 */
import assert from "node:assert/strict";
import { Decision, MatchState, ProposalStatus } from "@platform/proto/orchestrator/v1";
import { TaskService, TaskStatus } from "@platform/proto/tasks/v1";
import { rpcClient } from "../harness/rpc_clients.ts";
import { PlatformEnv } from "../orchestrator/orchestrator_env.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false };

Deno.test({ name: "e2e: task created, proposed, accepted, assigned", ...opts }, async (t) => {
  const env = await PlatformEnv.start();
  try {
    const tasksService = await env.startTasks();
    await env.startOrchestrator();
    const client = await env.signUp("client");
    const skill = `ts${crypto.randomUUID().slice(0, 6)}`;
    const devs = await Promise.all([0, 1, 2, 3].map(() => env.signUp("developer", [skill, "sql"])));
    const tasks = rpcClient(TaskService, tasksService.url, undefined, client.token);

    await t.step("accepting a proposal assigns the task and withdraws the others", async () => {
      const { task } = await tasks.createTask({
        title: "Build an API",
        description: "REST to gRPC",
        requiredSkills: [skill, "sql"],
        budget: { currency: "USD", amountMinor: 500_000n },
      });
      const taskId = task!.id;
      const owner = env.orchestrator(client.token);
      const proposals = await env.eventually(async () => {
        const { proposals } = await owner.listProposals({ taskId });
        if (proposals.length < 3) throw new Error(`${proposals.length} proposals`);
        return proposals;
      }, "proposals for the new task");
      assert.equal(proposals.length, 3);
      const chosen = proposals[0];
      const dev = devs.find((d) => d.id === chosen.developerId)!;
      const mine = await env.orchestrator(dev.token).listProposals({});
      assert.ok(mine.proposals.some((p) => p.id === chosen.id));
      const answer = await env.orchestrator(dev.token).respondToProposal({
        proposalId: chosen.id,
        decision: Decision.ACCEPT,
      });
      assert.equal(answer.proposal?.status, ProposalStatus.ACCEPTED);
      const assigned = await env.eventually(async () => {
        const { task } = await tasks.getTask({ taskId });
        if (task?.status !== TaskStatus.ASSIGNED) throw new Error(`task is ${task?.status}`);
        return task;
      }, "task assigned by the Task Service");
      assert.equal(assigned.assignedDeveloperId, dev.id);
      const after = await owner.listProposals({ taskId });
      assert.equal(after.proposals.filter((p) => p.status === ProposalStatus.ACCEPTED).length, 1);
      assert.equal(after.proposals.filter((p) => p.status === ProposalStatus.WITHDRAWN).length, 2);
      const status = await owner.getMatchStatus({ taskId });
      assert.equal(status.state, MatchState.ASSIGNED);
    });

    await t.step("cancelling a task withdraws its pending proposals", async () => {
      const { task } = await tasks.createTask({
        title: "Fix a bug",
        description: "Flaky test",
        requiredSkills: [skill],
        budget: { currency: "USD", amountMinor: 100_000n },
      });
      const taskId = task!.id;
      const owner = env.orchestrator(client.token);
      await env.eventually(async () => {
        const { proposals } = await owner.listProposals({ taskId });
        if (proposals.length < 1) throw new Error("no proposals");
      }, "proposals");
      await tasks.cancelTask({ taskId, reason: "no longer needed" });
      await env.eventually(async () => {
        const { proposals } = await owner.listProposals({ taskId });
        if (proposals.some((p) => p.status === ProposalStatus.PENDING)) throw new Error("pending");
        const status = await owner.getMatchStatus({ taskId });
        if (status.state !== MatchState.CLOSED) throw new Error(`state ${status.state}`);
      }, "proposals withdrawn after cancel");
    });

    await t.step("the manual's malformed nats pub leaves the orchestrator healthy", async () => {
      await env.nc!.publish("task.created", '{"task_id":"test-123","title":"Test"}');
      await env.js.publish(
        "task.created",
        new TextEncoder().encode('{"task_id":"test-123","title":"Test"}'),
      );
      await env.eventually(async () => {
        if (await env.metric(env.orchestrators[0], "events_malformed_total") < 1) {
          throw new Error("not counted");
        }
      }, "malformed counted");
      const health = await fetch(`${env.orchestrators[0].url}/health`);
      assert.equal(health.status, 200);
      assert.equal((await health.json()).status, "healthy");
    });
  } finally {
    await env.stop();
  }
});
