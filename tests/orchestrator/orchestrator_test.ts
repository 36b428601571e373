/**
 * The orchestrator against real PostgreSQL, NATS and the real User Service, with task.created
 * published as the Task Service would: proposals, duplicates, acceptance races, malformed
 * events, two replicas and a User Service outage.
 */
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { Decision, MatchState, ProposalStatus } from "@platform/proto/orchestrator/v1";
import { PlatformEnv } from "./orchestrator_env.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false };

Deno.test({ name: "orchestrator with real dependencies", ...opts }, async (t) => {
  const env = await PlatformEnv.start();
  try {
    const orchestrator = await env.startOrchestrator();
    const client = await env.signUp("client");
    const skill = `go${crypto.randomUUID().slice(0, 6)}`;
    const devs = await Promise.all(
      [0, 1, 2, 3].map((i) => env.signUp("developer", i < 3 ? [skill, "sql"] : [skill], 4000 + i)),
    );
    const outsider = await env.signUp("developer", ["cobol"]);

    await t.step(
      "task.created produces the top N proposals and proposal.created events",
      async () => {
        const taskId = await env.publishTaskCreated({
          clientId: client.id,
          skills: [skill, "sql"],
        });
        const proposals = await env.eventually(async () => {
          const rows = await env.proposals(taskId);
          if (rows.length < 3) throw new Error(`${rows.length} proposals`);
          return rows;
        }, "proposals");
        assert.equal(proposals.length, 3);
        assert.ok(proposals.every((p) => p.status === "PENDING"));
        assert.ok(!proposals.some((p) => p.developer_id === outsider.id));
        // The three with full coverage outrank the one with half.
        assert.deepEqual(
          new Set(proposals.map((p) => p.developer_id)),
          new Set(devs.slice(0, 3).map((d) => d.id)),
        );
        const status = await env.orchestrator(client.token).getMatchStatus({ taskId });
        assert.equal(status.state, MatchState.PROPOSED);
        assert.equal(status.attempts, 1);
        assert.equal(status.pendingProposals, 3);
        // proposal.created reached the PROPOSALS stream through the outbox relay.
        const jsm = await (await import("@nats-io/jetstream")).jetstreamManager(env.nc!);
        await env.eventually(async () => {
          const info = await jsm.streams.info("PROPOSALS");
          if (info.state.messages < 3) throw new Error(`${info.state.messages} messages`);
        }, "proposal.created events");
        assert.ok(await env.metric(orchestrator, "matches_attempted_total") >= 1);
        assert.ok(await env.metric(orchestrator, "matches_successful_total") >= 1);
      },
    );

    if (Deno.env.get("ORCH_TEST_ONLY_FIRST")) return;
    await t.step("redelivered and duplicate task.created create no duplicates", async () => {
      const taskId = crypto.randomUUID();
      const eventId = crypto.randomUUID();
      await env.publishTaskCreated({ taskId, clientId: client.id, skills: [skill] }, eventId);
      await env.eventually(async () => {
        if ((await env.proposals(taskId)).length < 3) throw new Error("not yet");
      }, "first proposals");
      // A new event id for the same task (not deduplicated by NATS) and the same one again.
      await env.publishTaskCreated({ taskId, clientId: client.id, skills: [skill] });
      await env.publishTaskCreated({ taskId, clientId: client.id, skills: [skill] }, eventId);
      await new Promise((r) => setTimeout(r, 1500));
      const rows = await env.proposals(taskId);
      assert.equal(rows.length, 3);
      const status = await env.orchestrator(client.token).getMatchStatus({ taskId });
      assert.equal(status.attempts, 1);
    });

    await t.step("ListProposals: own for developers, the task's for its owner only", async () => {
      const taskId = await env.publishTaskCreated({ clientId: client.id, skills: [skill, "sql"] });
      await env.eventually(async () => {
        if ((await env.proposals(taskId)).length < 3) throw new Error("not yet");
      }, "proposals");
      const forOwner = await env.orchestrator(client.token).listProposals({ taskId });
      assert.equal(forOwner.proposals.length, 3);
      const other = await env.signUp("client");
      await assert.rejects(
        env.orchestrator(other.token).listProposals({ taskId }),
        (e) => ConnectError.from(e).code === Code.NotFound, // as for an unknown task
      );
      const mine = await env.orchestrator(devs[0].token).listProposals({});
      assert.ok(mine.proposals.length >= 1);
      assert.ok(mine.proposals.every((p) => p.developerId === devs[0].id));
      await assert.rejects(
        env.orchestrator(devs[0].token).listProposals({ developerId: devs[1].id }),
        (e) => ConnectError.from(e).code === Code.PermissionDenied,
      );
      const paged = await env.orchestrator(devs[0].token).listProposals({ pageSize: 1 });
      assert.equal(paged.proposals.length, 1);
      assert.notEqual(paged.nextPageToken, "");
      await assert.rejects(
        env.orchestrator(devs[0].token).listProposals({ taskId: "nope" }),
        (e) => ConnectError.from(e).code === Code.InvalidArgument,
      );
    });

    await t.step(
      "first acceptance wins; others withdrawn; late acceptance failed_precondition",
      async () => {
        const taskId = await env.publishTaskCreated({
          clientId: client.id,
          skills: [skill, "sql"],
        });
        const rows = await env.eventually(async () => {
          const r = await env.proposals(taskId);
          if (r.length < 3) throw new Error("not yet");
          return r;
        }, "proposals");
        const tokenOf = (id: string) => devs.find((d) => d.id === id)!.token;
        // Two developers accept at once: exactly one wins.
        const results = await Promise.allSettled(
          rows.slice(0, 2).map((p) =>
            env.orchestrator(tokenOf(p.developer_id)).respondToProposal({
              proposalId: p.id,
              decision: Decision.ACCEPT,
            })
          ),
        );
        const won = results.filter((r) => r.status === "fulfilled");
        const lost = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
        assert.equal(won.length, 1);
        assert.equal(lost.length, 1);
        assert.equal(ConnectError.from(lost[0].reason).code, Code.FailedPrecondition);
        const after = await env.proposals(taskId);
        assert.equal(after.filter((p) => p.status === "ACCEPTED").length, 1);
        assert.equal(after.filter((p) => p.status === "WITHDRAWN").length, 2);
        // The third (withdrawn) developer tries later.
        const third = after.find((p) => p.status === "WITHDRAWN")!;
        await assert.rejects(
          env.orchestrator(tokenOf(third.developer_id)).respondToProposal({
            proposalId: third.id,
            decision: Decision.ACCEPT,
          }),
          (e) => ConnectError.from(e).code === Code.FailedPrecondition,
        );
        // Someone else's proposal.
        const winner = after.find((p) => p.status === "ACCEPTED")!;
        await assert.rejects(
          env.orchestrator(outsider.token).respondToProposal({
            proposalId: winner.id,
            decision: Decision.DECLINE,
          }),
          (e) => ConnectError.from(e).code === Code.PermissionDenied,
        );
        const status = await env.orchestrator(client.token).getMatchStatus({ taskId });
        assert.equal(status.state, MatchState.ASSIGNED);
        assert.equal(status.assignedDeveloperId, winner.developer_id);
        const listed = await env.orchestrator(client.token).listProposals({
          taskId,
          status: ProposalStatus.WITHDRAWN,
        });
        assert.equal(listed.proposals.length, 2);
        assert.ok(await env.metric(orchestrator, "proposal_response_time_seconds_count") >= 1);
      },
    );

    await t.step(
      "a decline leaving no pending proposal re-matches with the next candidate",
      async () => {
        const taskId = await env.publishTaskCreated({
          clientId: client.id,
          skills: [skill, "sql"],
        });
        const rows = await env.eventually(async () => {
          const r = await env.proposals(taskId);
          if (r.length < 3) throw new Error("not yet");
          return r;
        }, "proposals");
        for (const p of rows) {
          await env.orchestrator(devs.find((d) => d.id === p.developer_id)!.token)
            .respondToProposal({
              proposalId: p.id,
              decision: Decision.DECLINE,
            });
        }
        // The fourth developer (half coverage) is next; the three who declined are excluded.
        const next = await env.eventually(async () => {
          const r = (await env.proposals(taskId)).filter((p) => p.status === "PENDING");
          if (r.length < 1) throw new Error("not re-matched");
          return r;
        }, "re-match");
        assert.deepEqual(next.map((p) => p.developer_id), [devs[3].id]);
      },
    );

    await t.step("unanswered proposals expire and the task is matched again", async () => {
      const taskId = await env.publishTaskCreated({ clientId: client.id, skills: [skill, "sql"] });
      const first = await env.eventually(async () => {
        const r = await env.proposals(taskId);
        if (r.length < 3) throw new Error("not yet");
        return r;
      }, "proposals");
      await env.sql!`UPDATE proposals SET expires_at = now() - interval '1 second'
                     WHERE task_id = ${taskId}`;
      const next = await env.eventually(async () => {
        const firstIds = new Set(first.map((p) => p.id));
        const r = (await env.proposals(taskId)).filter((p) =>
          p.status === "PENDING" && !firstIds.has(p.id)
        );
        if (r.length < 1) throw new Error("not re-matched");
        return r;
      }, "re-match after expiry");
      assert.deepEqual(next.map((p) => p.developer_id), [devs[3].id]);
      const expired = (await env.proposals(taskId)).filter((p) => p.status === "EXPIRED");
      assert.deepEqual(new Set(expired.map((p) => p.id)), new Set(first.map((p) => p.id)));
      const status = await env.orchestrator(client.token).getMatchStatus({ taskId });
      assert.equal(status.state, MatchState.PROPOSED);
      assert.equal(status.attempts, 2);
    });

    await t.step(
      "malformed events are terminated, counted, and the service stays healthy",
      async () => {
        const enc = new TextEncoder();
        await env.js.publish("task.created", enc.encode('{"task_id":"test-123","title":"Test"}'));
        await env.js.publish("task.created", enc.encode("{not json"));
        await env.js.publish("task.status_changed", enc.encode('{"task_id":5}'));
        await env.eventually(async () => {
          const n = await env.metric(orchestrator, "events_malformed_total");
          if (n < 3) throw new Error(`${n} malformed`);
        }, "malformed counted");
        const health = await fetch(`${orchestrator.url}/health`);
        assert.equal(health.status, 200);
        assert.equal((await health.json()).status, "healthy");
        // And the consumer carries on.
        const taskId = await env.publishTaskCreated({ clientId: client.id, skills: [skill] });
        await env.eventually(async () => {
          if ((await env.proposals(taskId)).length < 1) throw new Error("not yet");
        }, "proposals after malformed events");
      },
    );

    await t.step("two replicas match each task once", async () => {
      const second = await env.startOrchestrator();
      const skill2 = `rs${crypto.randomUUID().slice(0, 6)}`;
      await Promise.all([0, 1, 2, 3, 4].map(() => env.signUp("developer", [skill2])));
      const ids = await Promise.all(
        Array.from(
          { length: 20 },
          () => env.publishTaskCreated({ clientId: client.id, skills: [skill2] }),
        ),
      );
      await env.eventually(async () => {
        const [row] = await env.sql!<{ n: number }[]>`
          SELECT count(*)::int AS n FROM match_tasks WHERE task_id = ANY(${ids}::uuid[]) AND state = 'PROPOSED'`;
        if (row.n < 20) throw new Error(`${row.n} proposed`);
      }, "20 tasks matched");
      const rows = await env.sql!<{ attempts: number; n: number }[]>`
        SELECT m.attempts, (SELECT count(*)::int FROM proposals p WHERE p.task_id = m.task_id) AS n
        FROM match_tasks m WHERE task_id = ANY(${ids}::uuid[])`;
      assert.equal(rows.length, 20);
      assert.ok(rows.every((r) => r.attempts === 1 && r.n === 3), JSON.stringify(rows));
      // Both replicas did some of the work (one durable consumer shared).
      const handled = second.logs().filter((l) => l.msg === "proposals created").length;
      const handledFirst = orchestrator.logs().filter((l) => l.msg === "proposals created").length;
      assert.ok(handled + handledFirst >= 20);
      const exit = await second.stop(); // graceful: consumers drained, pools closed, exit 0
      assert.equal(exit.code, 0);
      env.orchestrators.pop();
    });

    await t.step("NATS restart: the consumer comes back and matching goes on", async () => {
      await env.nats.stop();
      await new Promise((r) => setTimeout(r, 1000));
      await env.nats.resume();
      const taskId = await env.eventually(
        () => env.publishTaskCreated({ clientId: client.id, skills: [skill] }),
        "publish after NATS restart",
      );
      await env.eventually(
        async () => {
          if ((await env.proposals(taskId)).length < 1) throw new Error("not yet");
        },
        "proposals after NATS restart",
        30_000,
      );
      const health = await fetch(`${orchestrator.url}/health`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
    });

    await t.step("User Service down: tasks wait, matching resumes when it returns", async () => {
      await env.stopUsers();
      const taskIds = await Promise.all(
        [0, 1, 2].map(() => env.publishTaskCreated({ clientId: client.id, skills: [skill] })),
      );
      await env.eventually(async () => {
        const [row] = await env.sql!<{ n: number }[]>`
          SELECT count(*)::int AS n FROM match_tasks WHERE task_id = ANY(${taskIds}::uuid[])`;
        if (row.n < 3) throw new Error("not recorded");
      }, "tasks recorded while users is down");
      const health = await fetch(`${orchestrator.url}/health`);
      assert.equal(health.status, 503); // the User Service is a critical dependency
      assert.equal((await health.json()).checks.user_service, "unhealthy");
      await new Promise((r) => setTimeout(r, 2000));
      const [none] = await env.sql!<{ n: number }[]>`
        SELECT count(*)::int AS n FROM proposals WHERE task_id = ANY(${taskIds}::uuid[])`;
      assert.equal(none.n, 0);
      await env.startUsers();
      // The developers' presence survived (same database); matching resumes by itself.
      await env.eventually(
        async () => {
          const [row] = await env.sql!<{ n: number }[]>`
          SELECT count(DISTINCT task_id)::int AS n FROM proposals WHERE task_id = ANY(${taskIds}::uuid[])`;
          if (row.n < 3) throw new Error(`${row.n} of 3 matched`);
        },
        "matching resumed",
        30_000,
      );
      const healthy = await fetch(`${orchestrator.url}/health`);
      assert.equal(healthy.status, 200);
      await healthy.body?.cancel();
    });
  } finally {
    if (Deno.env.get("ORCH_TEST_LOGS")) {
      for (const o of env.orchestrators) console.log(o.process.lines.slice(-60).join("\n"));
    }
    await env.stop();
  }
});
