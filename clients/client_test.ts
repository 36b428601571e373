import assert from "node:assert/strict";
import { Code, type ConnectError } from "@connectrpc/connect";
import { fetchHealth, parsePrometheusText, tasksClient, usersClient } from "./mod.ts";

/** A fetch that records what it was sent and answers a Connect unary call with `body`. */
function recordingFetch(body: unknown, status = 200) {
  const sent: Request[] = [];
  const fetchFn: typeof fetch = (input, init) => {
    sent.push(new Request(input, init));
    return Promise.resolve(Response.json(body, { status }));
  };
  return { sent, fetchFn };
}

Deno.test("the token source is asked before every call; no token, no header", async () => {
  const { sent, fetchFn } = recordingFetch({ user: { id: "u1", displayName: "Ada" } });
  const session: { token?: string } = {};
  const users = usersClient("http://users.example/", {
    token: () => session.token,
    fetch: fetchFn,
  });
  await users.getUser({ userId: "u1" });
  session.token = "t-1";
  const { user } = await users.getUser({ userId: "u1" });
  assert.equal(user?.displayName, "Ada");
  assert.equal(sent[0].headers.get("authorization"), null);
  assert.equal(sent[1].headers.get("authorization"), "Bearer t-1");
  assert.equal(sent[1].url, "http://users.example/platform.users.v1.UserService/GetUser");
  assert.equal(sent[1].headers.get("content-type"), "application/json");
});

Deno.test("gRPC-web and binary are one option away; errors arrive as ConnectError", async () => {
  const { sent, fetchFn } = recordingFetch(
    { code: "invalid_argument", message: "title: must not be empty" },
    400,
  );
  await assert.rejects(
    tasksClient("http://tasks.example", { token: "t", fetch: fetchFn }).createTask({}),
    (e: ConnectError) => e.code === Code.InvalidArgument && /title/.test(e.rawMessage),
  );
  assert.equal(sent[0].url.endsWith("/platform.tasks.v1.TaskService/CreateTask"), true);
  const grpcWeb = recordingFetch({});
  await tasksClient("http://t", { protocol: "grpcweb", binary: true, fetch: grpcWeb.fetchFn })
    .getTask({ taskId: "x" }).catch(() => {});
  assert.equal(grpcWeb.sent[0].headers.get("content-type"), "application/grpc-web+proto");
});

Deno.test("Prometheus text is parsed into samples by name", () => {
  const metrics = parsePrometheusText(
    [
      "# HELP users_online_count Developers online now.",
      "# TYPE users_online_count gauge",
      "users_online_count 3",
      'grpc_server_handled_total{grpc_code="OK",grpc_method="Login",x="a \\"q\\""} 12',
      'weird_bucket{le="+Inf"} +Inf',
      "",
    ].join("\n"),
  );
  assert.deepEqual(metrics.get("users_online_count"), [{ labels: {}, value: 3 }]);
  assert.deepEqual(metrics.get("grpc_server_handled_total"), [{
    labels: { grpc_code: "OK", grpc_method: "Login", x: 'a "q"' },
    value: 12,
  }]);
  assert.equal(metrics.get("weird_bucket")?.[0].value, Infinity);
});

Deno.test("a 503 health report is a reading; a body that is not one throws", async () => {
  const report = {
    status: "unhealthy",
    version: "v1",
    timestamp: "2026-01-01T00:00:00Z",
    checks: { database: "unhealthy" },
    uptime: "1m2s",
  };
  const unhealthy = recordingFetch(report, 503);
  const reading = await fetchHealth("http://svc/", { fetch: unhealthy.fetchFn });
  assert.equal(reading.httpStatus, 503);
  assert.deepEqual(reading.report, report);
  assert.equal(unhealthy.sent[0].url, "http://svc/health");
  const html = () => Promise.resolve(new Response("<html>", { status: 502 }));
  await assert.rejects(fetchHealth("http://svc", { fetch: html }), /without a health report/);
});

Deno.test("CreateTask carries an idempotency key, the same on each retry of an open outcome", async () => {
  const sent: Array<Record<string, unknown>> = [];
  const answers = [
    Response.json({ code: "unavailable", message: "database is unavailable" }, { status: 503 }),
    Response.json({ code: "unknown", message: "its outcome is unknown" }, { status: 500 }),
    Response.json({ task: { id: "t1" } }),
  ];
  const fetchFn: typeof fetch = async (input, init) => {
    sent.push(await new Request(input, init).json());
    return answers.shift()!;
  };
  const tasks = tasksClient("http://tasks.example", {
    fetch: fetchFn,
    idempotency: { backoffMs: 1 },
  });
  const { task } = await tasks.createTask({ title: "once" });
  assert.equal(task?.id, "t1");
  assert.equal(sent.length, 3);
  assert.match(String(sent[0].idempotencyKey), /^[0-9a-f-]{36}$/);
  assert.ok(sent.every((body) => body.idempotencyKey === sent[0].idempotencyKey));

  // A new call, a new key; a key the caller chose is kept; a refusal is not retried.
  sent.length = 0;
  answers.push(
    Response.json({ code: "invalid_argument", message: "title: bad" }, { status: 400 }),
  );
  await assert.rejects(tasks.createTask({ title: "", idempotencyKey: "mine" }));
  assert.equal(sent.length, 1);
  assert.equal(sent[0].idempotencyKey, "mine");
  // Calls without the field are sent as they are, and not retried.
  sent.length = 0;
  answers.push(Response.json({ code: "unavailable", message: "x" }, { status: 503 }));
  await assert.rejects(tasks.getTask({ taskId: "t1" }));
  assert.equal(sent.length, 1);
  assert.equal(sent[0].idempotencyKey, undefined);
});
