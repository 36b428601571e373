/**
 * One trace through three services and NATS, as a collector receives it: the test runs an
 * OTLP/HTTP receiver of its own, starts the User, Task and Orchestrator services with Deno's
 * OpenTelemetry on (`OTEL_DENO=true`, OTLP JSON to the receiver), and drives a task from
 * CreateTask to its assignment:
 *
 * - trace 1: `TaskService/CreateTask` (tasks) -> `postgresql transaction` -> `publish
 *   task.created` (the relay) -> `process task.created` (orchestrator) -> the User Service RPC
 *   the matching makes (its client span in the orchestrator, its server span in users) and
 *   `publish proposal.created` (orchestrator);
 * - trace 2: the developer's `OrchestratorService/RespondToProposal` (a request of its own),
 *   linked to the proposal's span in trace 1 -> `publish proposal.accepted` -> `process
 *   proposal.accepted` (tasks): the assignment, whose log line carries trace 2's ids.
 *
 * Also: an RPC the fast path serves and one connect-es serves are both named after the method,
 * and a client's mistake carries its code without marking the span failed.
 */
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { Decision } from "@platform/proto/orchestrator/v1";
import { TaskService, TaskStatus } from "@platform/proto/tasks/v1";
import { rpcClient } from "../harness/rpc_clients.ts";
import { waitUntil } from "../harness/processes.ts";
import { PlatformEnv } from "../orchestrator/orchestrator_env.ts";
import { OtlpReceiver, type ReceivedSpan } from "./otlp_receiver.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false };
const SERVER = 2, CLIENT = 3, PRODUCER = 4, CONSUMER = 5;

Deno.test(
  { name: "tracing: one trace from CreateTask through NATS to the assignment", ...opts },
  async () => {
    const receiver = new OtlpReceiver();
    // The services inherit the environment they are started with; Deno reads it once, at start.
    const otel: Record<string, string> = {
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    };
    const saved = Object.fromEntries(Object.keys(otel).map((k) => [k, Deno.env.get(k)]));
    for (const [key, value] of Object.entries(otel)) Deno.env.set(key, value);
    let env: PlatformEnv | undefined;
    try {
      env = await PlatformEnv.start();
      const tasksService = await env.startTasks();
      await env.startOrchestrator();
      restore(saved);

      const client = await env.signUp("client");
      const skill = `trace${crypto.randomUUID().slice(0, 6)}`;
      const dev = await env.signUp("developer", [skill]);
      const tasks = rpcClient(TaskService, tasksService.url, undefined, client.token);
      const { task } = await tasks.createTask({
        title: "Trace me",
        description: "one trace from the request to the assignment",
        requiredSkills: [skill],
        budget: { currency: "USD", amountMinor: 300_000n },
      });
      const taskId = task!.id;
      const [proposal] = await env.eventually(async () => {
        const { proposals } = await env!.orchestrator(dev.token).listProposals({ taskId });
        if (proposals.length < 1) throw new Error("no proposal yet");
        return proposals;
      }, "a proposal for the task");
      await env.orchestrator(dev.token).respondToProposal({
        proposalId: proposal.id,
        decision: Decision.ACCEPT,
      });
      await env.eventually(async () => {
        const { task } = await tasks.getTask({ taskId });
        if (task?.status !== TaskStatus.ASSIGNED) throw new Error(`task is ${task?.status}`);
      }, "the assignment");
      // A client's mistake: its code on the span, the span not failed.
      await assert.rejects(
        tasks.createTask({ title: "", requiredSkills: [skill] }),
        (e) => e instanceof ConnectError && e.code === Code.InvalidArgument,
      );
      // A call connect-es serves (a compressed request is not the fast path's).
      const gzipped = await gzip(JSON.stringify({ taskId }));
      const viaConnect = await fetch(`${tasksService.url}/platform.tasks.v1.TaskService/GetTask`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-encoding": "gzip",
          authorization: `Bearer ${client.token}`,
        },
        body: gzipped,
      });
      assert.equal(viaConnect.status, 200, await viaConnect.text());

      const byName = (service: string, name: string) =>
        receiver.spans.filter((s) => s.service === service && s.name === name);
      const one = async (service: string, name: string, where: (s: ReceivedSpan) => boolean) =>
        await waitFor(() => byName(service, name).find(where), `${service}: ${name}`);

      // Trace 1: CreateTask ... proposal.created.
      const create = await one(
        "freelance-tasks",
        "platform.tasks.v1.TaskService/CreateTask",
        (s) => s.attributes["rpc.grpc.status_code"] === 0,
      );
      assert.equal(create.kind, SERVER);
      assert.equal(create.attributes["rpc.system"], "connect_rpc");
      assert.equal(create.attributes["rpc.service"], "platform.tasks.v1.TaskService");
      assert.equal(create.attributes["rpc.method"], "CreateTask");
      const t1 = create.traceId;
      const inT1 = (s: ReceivedSpan) => s.traceId === t1;
      const published = await one("freelance-tasks", "publish task.created", inT1);
      assert.equal(published.kind, PRODUCER);
      assert.equal(published.attributes["messaging.system"], "nats");
      assert.ok(isDescendant(receiver.trace(t1), published, create), "publish under CreateTask");
      // The orchestrator's matching: the consumer span, with the User Service's RPC under it.
      const usersCall = await waitFor(
        () => receiver.trace(t1).find((s) => s.service === "freelance-users" && s.kind === SERVER),
        "the User Service's RPC in trace 1",
      );
      assert.match(usersCall.name, /^platform\.users\.v1\.UserService\//);
      const matched = await waitFor(
        () =>
          receiver.trace(t1).find((s) =>
            s.service === "freelance-orchestrator" && s.name === "process task.created" &&
            isDescendant(receiver.trace(t1), usersCall, s)
          ),
        "the matching's consumer span above the User Service's RPC",
      );
      assert.equal(matched.kind, CONSUMER);
      const clientSide = receiver.trace(t1).find((s) =>
        s.service === "freelance-orchestrator" && s.kind === CLIENT && s.name === usersCall.name
      );
      assert.ok(clientSide, "the orchestrator's client span of the User Service call");
      assert.ok(isDescendant(receiver.trace(t1), usersCall, clientSide), "server under client");
      assert.ok(isDescendant(receiver.trace(t1), clientSide, matched), "client under matching");
      assert.equal(matched.parentSpanId, published.spanId, "the consumer is the publish's child");
      const proposed = await one("freelance-orchestrator", "publish proposal.created", inT1);
      assert.ok(isDescendant(receiver.trace(t1), proposed, matched), "proposal under matching");

      // Trace 2: the acceptance, linked to the proposal, to the assignment.
      const accept = await one(
        "freelance-orchestrator",
        "platform.orchestrator.v1.OrchestratorService/RespondToProposal",
        (s) => s.attributes["rpc.grpc.status_code"] === 0,
      );
      const t2 = accept.traceId;
      const inT2 = (s: ReceivedSpan) => s.traceId === t2;
      assert.ok(
        accept.links.some((l) => l.traceId === t1 && l.spanId === proposed.parentSpanId),
        "the acceptance links to the span that wrote the proposal",
      );
      const acceptedOut = await one("freelance-orchestrator", "publish proposal.accepted", inT2);
      assert.ok(isDescendant(receiver.trace(t2), acceptedOut, accept));
      const assigned = await one("freelance-tasks", "process proposal.accepted", inT2);
      assert.equal(assigned.parentSpanId, acceptedOut.spanId);

      // The assignment's log line carries trace 2's ids.
      const line = tasksService.logs().find((l) =>
        l.msg === "task assigned from accepted proposal"
      );
      assert.ok(line, "the assignment was logged");
      assert.equal(line.trace_id, t2);
      assert.ok(receiver.trace(t2).some((s) => s.spanId === line.span_id), "a span of trace 2");

      // The client's mistake and the connect-es path.
      const mistake = await one(
        "freelance-tasks",
        "platform.tasks.v1.TaskService/CreateTask",
        (s) => s.attributes["rpc.grpc.status_code"] === Code.InvalidArgument,
      );
      assert.equal(mistake.attributes["rpc.connect_rpc.error_code"], "invalid_argument");
      assert.equal(mistake.status, 0, "a client's mistake does not fail the span");
      await one(
        "freelance-tasks",
        "platform.tasks.v1.TaskService/GetTask",
        (s) =>
          s.attributes["http.request.method"] === "POST" &&
          s.attributes["rpc.grpc.status_code"] === 0,
      );
      assert.equal(
        receiver.spans.filter((s) => s.service.startsWith("unknown_service")).length,
        0,
      );

      // Redis: the profile cache's invalidation under the developer's UpdateProfile.
      const update = await one(
        "freelance-users",
        "platform.users.v1.UserService/UpdateProfile",
        () => true,
      );
      const invalidation = await one(
        "freelance-users",
        "redis PUBLISH",
        (s) => s.traceId === update.traceId,
      );
      assert.ok(isDescendant(receiver.trace(update.traceId), invalidation, update));

      console.log(`trace 1 (CreateTask):\n${render(receiver.trace(t1))}`);
      console.log(`trace 2 (RespondToProposal):\n${render(receiver.trace(t2))}`);
    } finally {
      restore(saved);
      await env?.stop();
      await receiver.stop();
    }
  },
);

function restore(saved: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) Deno.env.delete(key);
    else Deno.env.set(key, value);
  }
}

async function waitFor<T>(find: () => T | undefined, what: string): Promise<T> {
  let found: T | undefined;
  await waitUntil(
    () => {
      found = find();
      return found ? Promise.resolve() : Promise.reject(new Error(`no span yet: ${what}`));
    },
    30_000,
    what,
  );
  return found!;
}

function isDescendant(spans: ReceivedSpan[], span: ReceivedSpan, ancestor: ReceivedSpan): boolean {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (let at = byId.get(span.parentSpanId); at; at = byId.get(at.parentSpanId)) {
    if (at.spanId === ancestor.spanId) return true;
  }
  return span.parentSpanId === ancestor.spanId;
}

async function gzip(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The trace as an indented list, in start order: `service  name`. */
function render(spans: ReceivedSpan[]): string {
  const children = new Map<string, ReceivedSpan[]>();
  const ids = new Set(spans.map((s) => s.spanId));
  for (const s of [...spans].sort((a, b) => (a.start < b.start ? -1 : 1))) {
    const parent = ids.has(s.parentSpanId) ? s.parentSpanId : "";
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const lines: string[] = [];
  const walk = (parent: string, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      const links = s.links.length
        ? `  (links: ${s.links.map((l) => l.traceId.slice(0, 8)).join(", ")})`
        : "";
      lines.push(`${"  ".repeat(depth)}${s.name}  [${s.service}]${links}`);
      walk(s.spanId, depth + 1);
    }
  };
  walk("", 1);
  return lines.join("\n");
}
