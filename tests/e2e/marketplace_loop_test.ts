/**
 * The marketplace loop, live, through the three real services over real PostgreSQL, NATS
 * JetStream and Redis, told through the notifications each user's Watch stream receives:
 *
 * 1. a task nobody can take waits (NO_CANDIDATES); the client edits its skills to ones an online
 *    developer has: it is re-matched at once; editing its budget withdraws that proposal and
 *    offers the new terms;
 * 2. the developer goes offline: the proposal is withdrawn and the task re-matched to another;
 * 3. a developer coming online, and one gaining a skill, wake the waiting tasks they can take;
 * 4. a task's deadline passes: its proposal expires, the task is EXPIRED with its history row;
 * 5. an acceptance assigns the task; cancelling the ASSIGNED task cancels the acceptance and tells
 *    the developer; they list the tasks assigned to them;
 * 6. the client's Watch is cut in the middle and resumed with its last cursor: nothing missed,
 *    nothing twice; forged and foreign cursors are invalid_argument;
 * 7. visibility is the same answer in the Task Service and the Orchestrator;
 * 8. malformed events (presence, task.updated, a notification) are counted and set aside.
 */
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { WatchCursors } from "@platform/lib/notifications";
import { NotificationKind } from "@platform/proto/notifications/v1";
import {
  Decision,
  MatchState,
  ProposalReason,
  ProposalStatus,
} from "@platform/proto/orchestrator/v1";
import { TaskService, TaskStatus } from "@platform/proto/tasks/v1";
import { UserService } from "@platform/proto/users/v1";
import { rpcClient } from "../harness/rpc_clients.ts";
import { PlatformEnv, TEST_SECRET } from "../orchestrator/orchestrator_env.ts";
import { WatchRecorder } from "./watch_recorder.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false };
const unique = (prefix: string) => `${prefix}${crypto.randomUUID().slice(0, 6)}`;
const K = NotificationKind;

Deno.test({ name: "e2e: the marketplace loop, live, with Watch", ...opts }, async (t) => {
  const env = await PlatformEnv.start();
  const watches: WatchRecorder[] = [];
  try {
    const tasksService = await env.startTasks();
    const orchestrator = await env.startOrchestrator();
    const url = orchestrator.url;
    const client = await env.signUp("client");
    const tasks = rpcClient(TaskService, tasksService.url, undefined, client.token);
    const zig = unique("zig");
    const fortran = unique("fortran");
    const z1 = await env.signUp("developer", [zig]);
    // The client watches over gRPC-web (binary), developers over Connect (JSON), as browsers may.
    const clientWatch = await WatchRecorder.open(url, client.token, {
      protocol: "grpcweb",
      http: "1.1",
      binary: true,
    });
    const z1Watch = await WatchRecorder.open(url, z1.token);
    watches.push(clientWatch, z1Watch);
    let taskId = "";

    await t.step("an edit reaches the matcher: re-matched on the new terms", async () => {
      const { task } = await tasks.createTask({
        title: "Port the compiler",
        requiredSkills: [fortran],
        budget: { currency: "USD", amountMinor: 300_000n },
        deadline: timestampFromDate(new Date(Date.now() + 3 * 86_400_000)),
      });
      taskId = task!.id;
      await clientWatch.waitFor(
        K.MATCH_STATE_CHANGED,
        (n) =>
          n.taskId === taskId && n.detail.case === "match" &&
          n.detail.value.to === MatchState.NO_CANDIDATES,
      );
      // The case: ["fortran"] -> ["zig"] with a zig developer online.
      const updated = await tasks.updateTask({ taskId, requiredSkills: { skills: [zig] } });
      assert.equal(updated.task?.termsVersion, 2);
      const offered = await z1Watch.waitFor(K.PROPOSAL_OFFERED, (n) => n.taskId === taskId);
      assert.equal(offered.detail.case, "proposal");
      const proposal = offered.detail.case === "proposal" ? offered.detail.value : undefined;
      // A proposal says what it is for.
      assert.equal(proposal?.task?.title, "Port the compiler");
      assert.deepEqual(proposal?.task?.requiredSkills, [zig]);
      assert.equal(proposal?.task?.budget?.amountMinor, 300_000n);
      assert.ok(proposal?.task?.deadline);
      assert.equal(proposal?.task?.termsVersion, 2);
      assert.ok(proposal!.expiresAt!.seconds <= proposal!.task!.deadline!.seconds);
      await clientWatch.waitFor(
        K.MATCH_STATE_CHANGED,
        (n) =>
          n.taskId === taskId && n.detail.case === "match" &&
          n.detail.value.to === MatchState.PROPOSED,
      );
      // A new budget: the pending proposal is withdrawn and the new terms are offered.
      await tasks.updateTask({ taskId, budget: { currency: "USD", amountMinor: 450_000n } });
      const withdrawn = await z1Watch.waitFor(K.PROPOSAL_WITHDRAWN, (n) => n.taskId === taskId);
      assert.equal(
        withdrawn.detail.case === "proposal" && withdrawn.detail.value.reason,
        ProposalReason.TERMS_CHANGED,
      );
      const reoffered = await z1Watch.waitFor(
        K.PROPOSAL_OFFERED,
        (n) =>
          n.taskId === taskId && n.detail.case === "proposal" &&
          n.detail.value.task?.termsVersion === 3,
      );
      assert.equal(
        reoffered.detail.case === "proposal" && reoffered.detail.value.task?.budget?.amountMinor,
        450_000n,
      );
      // A description-only edit changes no terms: the proposal stands.
      await tasks.updateTask({ taskId, description: "with tests" });
      const { proposals } = await env.orchestrator(client.token).listProposals({ taskId });
      assert.equal(proposals.filter((p) => p.status === ProposalStatus.PENDING).length, 1);
    });

    let z2 = { id: "", token: "" };
    let z2Watch: WatchRecorder;
    await t.step("offline -> withdrawn -> re-matched to another developer", async () => {
      z2 = await env.signUp("developer", [zig]);
      z2Watch = await WatchRecorder.open(url, z2.token, { protocol: "connect", http: "h2c" });
      watches.push(z2Watch);
      await rpcClient(UserService, env.users!.url, undefined, z1.token).goOffline({});
      const gone = await z1Watch.waitFor(
        K.PROPOSAL_WITHDRAWN,
        (n) =>
          n.taskId === taskId && n.detail.case === "proposal" &&
          n.detail.value.reason === ProposalReason.DEVELOPER_OFFLINE,
      );
      assert.equal(gone.detail.case === "proposal" && gone.detail.value.status, 4);
      await z2Watch.waitFor(K.PROPOSAL_OFFERED, (n) => n.taskId === taskId);
      const status = await env.orchestrator(client.token).getMatchStatus({ taskId });
      assert.equal(status.state, MatchState.PROPOSED);
    });

    await t.step("online and new skills wake the waiting tasks they cover", async () => {
      const rust = unique("rust");
      const haskell = unique("haskell");
      const waiting: string[] = [];
      for (const skill of [rust, haskell]) {
        const { task } = await tasks.createTask({
          title: `Needs ${skill}`,
          requiredSkills: [skill],
          budget: { currency: "USD", amountMinor: 100_000n },
        });
        waiting.push(task!.id);
      }
      for (const id of waiting) {
        await clientWatch.waitFor(
          K.MATCH_STATE_CHANGED,
          (n) =>
            n.taskId === id && n.detail.case === "match" &&
            n.detail.value.to === MatchState.NO_CANDIDATES,
        );
      }
      // No timer retries them (UNMATCHED_RECHECK_SECONDS is hours): only events do.
      const started = Date.now();
      const r = await env.signUp("developer", [rust]);
      const rWatch = await WatchRecorder.open(url, r.token);
      watches.push(rWatch);
      await rWatch.waitFor(K.PROPOSAL_OFFERED, (n) => n.taskId === waiting[0], 15_000);
      await rpcClient(UserService, env.users!.url, undefined, z2.token).updateProfile({
        skillTags: { tags: [zig, haskell] },
      });
      await z2Watch.waitFor(K.PROPOSAL_OFFERED, (n) => n.taskId === waiting[1], 15_000);
      assert.ok(Date.now() - started < 15_000);
      assert.ok(await env.metric(orchestrator, "match_wakeups_total") >= 2);
    });

    await t.step(
      "a deadline passes: proposal expired, task EXPIRED with its history row",
      async () => {
        const solo = unique("cobol");
        const c = await env.signUp("developer", [solo]);
        const cWatch = await WatchRecorder.open(url, c.token);
        watches.push(cWatch);
        const { task } = await tasks.createTask({
          title: "Due soon",
          requiredSkills: [solo],
          budget: { currency: "USD", amountMinor: 50_000n },
          deadline: timestampFromDate(new Date(Date.now() + 4000)),
        });
        const id = task!.id;
        await cWatch.waitFor(K.PROPOSAL_OFFERED, (n) => n.taskId === id);
        const expired = await cWatch.waitFor(K.PROPOSAL_EXPIRED, (n) => n.taskId === id, 20_000);
        assert.equal(
          expired.detail.case === "proposal" && expired.detail.value.reason,
          ProposalReason.TASK_EXPIRED,
        );
        const changed = await clientWatch.waitFor(
          K.TASK_STATUS_CHANGED,
          (n) =>
            n.taskId === id && n.detail.case === "task" && n.detail.value.to === TaskStatus.EXPIRED,
          20_000,
        );
        assert.equal(changed.detail.case === "task" && changed.detail.value.from, TaskStatus.OPEN);
        const history = await tasks.getTaskHistory({ taskId: id });
        assert.deepEqual(history.transitions.map((tr) => tr.to), [
          TaskStatus.OPEN,
          TaskStatus.EXPIRED,
        ]);
        assert.equal((await tasks.getTask({ taskId: id })).task?.status, TaskStatus.EXPIRED);
        await env.eventually(async () => {
          const s = await env.orchestrator(client.token).getMatchStatus({ taskId: id });
          if (s.state !== MatchState.CLOSED) throw new Error(`state ${s.state}`);
        }, "match closed");
        // Past the deadline nothing is proposed and nothing can be answered.
        const rows = await env.proposals(id);
        assert.ok(rows.every((p) => p.status !== "PENDING"));
      },
    );

    let resumeCursor = "";
    let received: string[] = [];
    await t.step("a decline is told to the client while other proposals stay pending", async () => {
      const rust = unique("rust");
      const [r1, r2] = [
        await env.signUp("developer", [rust]),
        await env.signUp("developer", [rust]),
      ];
      const r1Watch = await WatchRecorder.open(url, r1.token);
      watches.push(r1Watch);
      const { task } = await tasks.createTask({
        title: "Rewrite the parser",
        requiredSkills: [rust],
        budget: { currency: "USD", amountMinor: 200_000n },
      });
      const id = task!.id;
      const offered = await r1Watch.waitFor(K.PROPOSAL_OFFERED, (n) => n.taskId === id);
      await waitUntilPending(env.orchestrator(client.token), id, 2, r2.id);
      const proposalId = offered.detail.case === "proposal" ? offered.detail.value.id : "";
      await env.orchestrator(r1.token).respondToProposal({
        proposalId,
        decision: Decision.DECLINE,
      });
      const declined = await clientWatch.waitFor(K.PROPOSAL_DECLINED, (n) => n.taskId === id);
      assert.equal(declined.detail.case === "proposal" && declined.detail.value.id, proposalId);
      assert.equal(
        declined.detail.case === "proposal" && declined.detail.value.status,
        ProposalStatus.DECLINED,
      );
      const status = await env.orchestrator(client.token).getMatchStatus({ taskId: id });
      assert.equal(status.state, MatchState.PROPOSED, "the other proposal is still pending");
    });

    await t.step("acceptance, then cancelling the ASSIGNED task tells the developer", async () => {
      // The client's stream is cut here; what follows happens while it is away.
      resumeCursor = clientWatch.cursor;
      received = clientWatch.notifications.map((n) => n.eventId);
      await clientWatch.stop();
      const { proposals } = await env.orchestrator(z2.token).listProposals({
        taskId,
        status: ProposalStatus.PENDING,
      });
      const answer = await env.orchestrator(z2.token).respondToProposal({
        proposalId: proposals[0].id,
        decision: Decision.ACCEPT,
      });
      assert.equal(answer.proposal?.task?.title, "Port the compiler");
      await z2Watch.waitFor(K.TASK_ASSIGNED, (n) => n.taskId === taskId);
      const mine = await rpcClient(TaskService, tasksService.url, undefined, z2.token).listTasks({
        assignedToMe: true,
      });
      assert.deepEqual(mine.tasks.map((x) => x.id), [taskId]);
      await tasks.cancelTask({ taskId, reason: "budget cut" });
      await z2Watch.waitFor(K.TASK_CANCELLED, (n) => n.taskId === taskId);
      const cancelled = await z2Watch.waitFor(K.PROPOSAL_CANCELLED, (n) => n.taskId === taskId);
      assert.equal(
        cancelled.detail.case === "proposal" && cancelled.detail.value.status,
        ProposalStatus.CANCELLED,
      );
      const after = await env.orchestrator(client.token).listProposals({ taskId });
      assert.equal(after.proposals.filter((p) => p.status === ProposalStatus.ACCEPTED).length, 0);
    });

    await t.step(
      "the client's Watch resumes after the cut: nothing missed, nothing twice",
      async () => {
        const resumed = await WatchRecorder.open(
          url,
          client.token,
          { protocol: "connect", http: "1.1", binary: true },
          resumeCursor,
        );
        watches.push(resumed);
        await resumed.waitFor(K.PROPOSAL_ACCEPTED, (n) => n.taskId === taskId);
        await resumed.waitFor(
          K.TASK_STATUS_CHANGED,
          (n) =>
            n.taskId === taskId && n.detail.case === "task" &&
            n.detail.value.to === TaskStatus.CANCELLED,
        );
        await resumed.waitFor(
          K.MATCH_STATE_CHANGED,
          (n) =>
            n.taskId === taskId && n.detail.case === "match" &&
            n.detail.value.to === MatchState.CLOSED,
        );
        // The whole history of the client's notifications, replayed from the start of the stream
        // (a cursor signed with the services' secret, as the service would).
        const everything = await WatchRecorder.open(
          url,
          client.token,
          undefined,
          await new WatchCursors([TEST_SECRET]).sign(client.id, 0),
        );
        watches.push(everything);
        const all = () => everything.notifications.map((n) => n.eventId);
        await env.eventually(() => {
          const got = [...received, ...resumed.notifications.map((n) => n.eventId)];
          if (all().length < got.length) throw new Error(`${all().length} of ${got.length}`);
          return Promise.resolve();
        }, "replay");
        const got = [...received, ...resumed.notifications.map((n) => n.eventId)];
        assert.equal(new Set(got).size, got.length, "nothing twice");
        assert.deepEqual(got, all().slice(0, got.length), "nothing missed, in order");
        assert.ok(everything.notifications.every((n) => n.userId === client.id));
        // Every step of the story reached the client.
        const kinds = new Set(everything.notifications.map((n) => n.kind));
        for (const kind of [K.MATCH_STATE_CHANGED, K.TASK_STATUS_CHANGED, K.PROPOSAL_ACCEPTED]) {
          assert.ok(kinds.has(kind), NotificationKind[kind]);
        }
        // Keep-alives flow while nothing happens (WATCH_KEEPALIVE_SECONDS=1 here).
        const before = resumed.frames.filter((f) => f.frame.case === "keepAlive").length;
        await new Promise((r) => setTimeout(r, 2500));
        assert.ok(resumed.frames.filter((f) => f.frame.case === "keepAlive").length > before);
      },
    );

    await t.step("forged, foreign and malformed cursors are invalid_argument", async () => {
      const [seq, mac] = z2Watch.cursor.split(".");
      const bad = [
        z2Watch.cursor, // another user's
        `${Number(seq) + 1}.${mac}`, // forged sequence
        "12.AAAAAAAAAAAAAAAAAAAAAA",
        "not a cursor",
        "1".repeat(200),
      ];
      for (const cursor of bad) {
        await assert.rejects(
          WatchRecorder.open(url, client.token, undefined, cursor),
          (e) => ConnectError.from(e).code === Code.InvalidArgument,
          cursor,
        );
      }
      const anonymous = rpcClient(
        (await import("@platform/proto/notifications/v1")).NotificationService,
        url,
      );
      await assert.rejects(
        (async () => {
          for await (const _ of anonymous.watch({})) break;
        })(),
        (e) => ConnectError.from(e).code === Code.Unauthenticated,
      );
    });

    await t.step("visibility: one answer in every service", async () => {
      const stranger = await env.signUp("developer", ["nothing"]);
      const otherClient = await env.signUp("client");
      const { task } = await tasks.createTask({
        title: "Browse me",
        requiredSkills: [unique("none")],
        budget: { currency: "USD", amountMinor: 10_000n },
      });
      const open = task!.id;
      const asStranger = rpcClient(TaskService, tasksService.url, undefined, stranger.token);
      // Another developer browses an OPEN task, without its history.
      assert.equal((await asStranger.getTask({ taskId: open })).task?.id, open);
      await assert.rejects(
        asStranger.getTaskHistory({ taskId: open }),
        (e) => ConnectError.from(e).code === Code.PermissionDenied,
      );
      // Not OPEN (the cancelled task), not theirs: not_found in both services.
      const codes = async (token: string, id: string) => [
        await rpcClient(TaskService, tasksService.url, undefined, token).getTask({ taskId: id })
          .then(() => "ok", (e) => Code[ConnectError.from(e).code]),
        await env.orchestrator(token).getMatchStatus({ taskId: id })
          .then(() => "ok", (e) => Code[ConnectError.from(e).code]),
      ];
      assert.deepEqual(await codes(stranger.token, taskId), ["NotFound", "NotFound"]);
      assert.deepEqual(await codes(otherClient.token, taskId), ["NotFound", "NotFound"]);
      assert.deepEqual(await codes(otherClient.token, open), ["NotFound", "NotFound"]);
      assert.deepEqual(await codes(client.token, taskId), ["ok", "ok"]);
      assert.deepEqual(await codes(z2.token, taskId), ["ok", "ok"]); // its developer
    });

    await t.step("malformed events are counted and set aside; nothing crashes", async () => {
      const before = await env.metric(orchestrator, "events_malformed_total");
      const enc = new TextEncoder();
      await env.js.publish("presence.online", enc.encode('{"user_id":"not-a-uuid"}'));
      await env.js.publish("presence.offline", enc.encode("{not json"));
      await env.js.publish("task.updated", enc.encode(`{"task_id":"${crypto.randomUUID()}"}`));
      await env.js.publish("presence.teleported", enc.encode(`{"user_id":"${z2.id}"}`)); // unknown
      // A notification that is not one: the Watch skips it and carries on.
      const z2Stream = z2Watch;
      await env.js.publish(`notify.${z2.id}.task_assigned`, enc.encode("{garbage"));
      await env.eventually(async () => {
        const n = await env.metric(orchestrator, "events_malformed_total");
        if (n < before + 5) throw new Error(`${n - before} counted`);
      }, "malformed counted");
      const health = await fetch(`${url}/health`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
      assert.equal(z2Stream.error, undefined);
      assert.equal(z2Stream.ended, false);
    });
  } finally {
    await Promise.allSettled(watches.map((w) => w.stop()));
    await env.stop();
  }
});

/** Waits until the task has `count` pending proposals, one of them to `developerId`. */
async function waitUntilPending(
  orchestrator: ReturnType<PlatformEnv["orchestrator"]>,
  taskId: string,
  count: number,
  developerId: string,
): Promise<void> {
  for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
    const { proposals } = await orchestrator.listProposals({
      taskId,
      status: ProposalStatus.PENDING,
    });
    if (proposals.length >= count && proposals.some((p) => p.developerId === developerId)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`task ${taskId}: not ${count} pending proposals within 15 s`);
}
