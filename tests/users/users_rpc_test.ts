/**
 * The User Service as a client sees it: every RPC over Connect and gRPC-web, JSON and binary,
 * HTTP/1.1 and h2c, and the HTTP endpoints of the manual.
 */
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import postgres from "postgres";
import { SkillMatch, UserService } from "@platform/proto/users/v1";
import { FLAVOURS, postJson, rpcClient } from "../harness/rpc_clients.ts";
import { signUp, startUsersEnv, TEST_SECRET } from "./users_env.ts";

const env = await startUsersEnv({ PRESENCE_TTL_SECONDS: "2", PRESENCE_SWEEP_MS: "200" });
const url = env.users.url;
const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("GET /health answers the manual's JSON with 200", opts, async () => {
  // NATS (non-critical here) connects in the background after start: degraded until then.
  let res = await fetch(`${url}/health`);
  let body = await res.json();
  for (let i = 0; i < 50 && body.status !== "healthy"; i++) {
    assert.equal(res.status, 200);
    assert.equal(body.status, "degraded");
    await new Promise((r) => setTimeout(r, 100));
    res = await fetch(`${url}/health`);
    body = await res.json();
  }
  assert.equal(res.status, 200);
  assert.deepEqual(Object.keys(body).sort(), [
    "checks",
    "status",
    "timestamp",
    "uptime",
    "version",
  ]);
  assert.equal(body.status, "healthy");
  assert.deepEqual(body.checks, { database: "healthy", redis: "healthy", nats: "healthy" });
  assert.match(body.uptime, /^(\d+h)?(\d+m)?\d+s$/);
  assert.match(body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(body.version, "v1.0.0");
});

Deno.test("/livez, /readyz and /metrics answer", opts, async () => {
  assert.equal((await fetch(`${url}/livez`).then((r) => r.json())).status, "alive");
  assert.equal((await fetch(`${url}/readyz`)).status, 200);
  const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
  for (
    const name of [
      "grpc_server_handled_total",
      "users_online_count",
      "process_resident_memory_bytes",
    ]
  ) {
    assert.ok(metrics.includes(name), `missing ${name}`);
  }
  assert.ok(
    !metrics.includes("nodejs_eventloop_lag"),
    "exports a Node metric that lies under Deno",
  );
});

for (const flavour of FLAVOURS) {
  const label = `${flavour.protocol}${flavour.binary ? "+proto" : "+json"} over ${flavour.http}`;
  Deno.test(`register, log in, read and update a profile (${label})`, opts, async () => {
    const dev = await signUp(url, "developer");
    const client = rpcClient(UserService, url, flavour, dev.token);
    const { user } = await client.updateProfile({
      displayName: "Ada",
      skillTags: { tags: [" Go ", "PostgreSQL", "go", "Node JS"] },
      hourlyRate: { currency: "usd", amountMinor: 9000n },
    });
    assert.deepEqual(user?.skillTags, ["go", "node-js", "postgresql"]);
    assert.equal(user?.hourlyRate?.currency, "USD");
    const read = await client.getUser({ userId: dev.id });
    assert.equal(read.user?.displayName, "Ada");
    assert.equal(read.user?.email, dev.email);
  });
}

Deno.test("a developer who goes online is listed and found, then expires", opts, async () => {
  const tag = `tag-${crypto.randomUUID().slice(0, 6)}`;
  const dev = await signUp(url, "developer");
  await dev.client.updateProfile({ skillTags: { tags: [tag, "rust"] } });
  await dev.client.goOnline({});
  const client = await signUp(url, "client");
  const online = [];
  for await (const item of client.client.listOnlineDevelopers({ skillTags: [tag] })) {
    online.push(item.developer!);
  }
  assert.deepEqual(online.map((d) => d.id), [dev.id]);
  assert.equal(online[0].email, "", "another user's email is private");
  const any = await client.client.searchDevelopers({
    skillTags: [tag, "no-such-skill"],
    match: SkillMatch.ANY,
  });
  assert.deepEqual(any.developers.map((d) => d.id), [dev.id]);
  const all = await client.client.searchDevelopers({
    skillTags: [tag, "no-such-skill"],
    match: SkillMatch.ALL,
  });
  assert.equal(all.developers.length, 0);
  const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
  assert.match(metrics, /^users_online_count [1-9]/m);
  await dev.client.heartbeat({});
  // No heartbeat for the 2 s TTL: the sweeper takes the developer offline.
  await new Promise((r) => setTimeout(r, 3000));
  const after = await client.client.getUser({ userId: dev.id });
  assert.equal(after.user?.isOnline, false);
  await assert.rejects(
    dev.client.heartbeat({}),
    (e: ConnectError) => e.code === Code.FailedPrecondition,
  );
});

Deno.test("the manual's SQL works as written", opts, async () => {
  const sql = postgres(env.databaseUrl, { max: 1 });
  try {
    const dev = await signUp(url, "developer");
    await dev.client.updateProfile({ skillTags: { tags: ["golang"] } });
    await dev.client.goOnline({});
    const [{ count }] = await sql.unsafe("SELECT count(*) FROM users WHERE is_online = true;");
    assert.ok(Number(count) >= 1);
    const rows = await sql.unsafe(`SELECT id FROM users WHERE skill_tags @> '["golang"]'`);
    assert.ok(rows.some((r) => r.id === dev.id));
    const plan = await sql.unsafe(
      `SET enable_seqscan = off; EXPLAIN SELECT * FROM users WHERE skill_tags @> '["golang"]'`,
    );
    assert.match(JSON.stringify(plan), /idx_users_skill_tags_gin/);
  } finally {
    await sql.end();
  }
});

Deno.test("search pages through every developer exactly once", opts, async () => {
  const tag = `page-${crypto.randomUUID().slice(0, 6)}`;
  const ids = new Set<string>();
  for (let i = 0; i < 7; i++) {
    const dev = await signUp(url, "developer");
    await dev.client.updateProfile({ skillTags: { tags: [tag] } });
    ids.add(dev.id);
  }
  const reader = await signUp(url, "client");
  const seen: string[] = [];
  let pageToken = "";
  do {
    const page = await reader.client.searchDevelopers({ skillTags: [tag], pageSize: 3, pageToken });
    seen.push(...page.developers.map((d) => d.id));
    pageToken = page.nextPageToken;
  } while (pageToken);
  assert.equal(seen.length, 7);
  assert.deepEqual(new Set(seen), ids);
});

Deno.test("buf curl lists the services by reflection and calls Login", opts, async () => {
  const buf = new URL("../../tools/node_modules/.bin/buf", import.meta.url).pathname;
  const list = await new Deno.Command(buf, { args: ["curl", "--list-services", url] }).output();
  const text = new TextDecoder().decode(list.stdout);
  assert.ok(list.success, new TextDecoder().decode(list.stderr));
  assert.match(text, /platform\.users\.v1\.UserService/);
  const dev = await signUp(url, "developer");
  const call = await new Deno.Command(buf, {
    args: [
      "curl",
      "--protocol",
      "grpcweb",
      "-d",
      JSON.stringify({ email: dev.email, password: dev.password }),
      `${url}/platform.users.v1.UserService/Login`,
    ],
  }).output();
  assert.ok(call.success, new TextDecoder().decode(call.stderr));
  assert.match(new TextDecoder().decode(call.stdout), /accessToken/);
});

Deno.test("gRPC health Check answers SERVING", opts, async () => {
  const { status, body } = await postJson(url, "grpc.health.v1.Health/Check", {});
  assert.equal(status, 200);
  assert.equal(body.status, "SERVING");
});

Deno.test(
  "debug routes are admin-only and return a heap snapshot and CPU profile",
  opts,
  async () => {
    const dev = await signUp(url, "developer");
    const asDev = await fetch(`${url}/debug/memory`, {
      headers: { authorization: `Bearer ${dev.token}` },
    });
    assert.equal(asDev.status, 403);
    await asDev.body?.cancel();
    assert.equal(
      await fetch(`${url}/debug/heap`).then(async (r) => (await r.body?.cancel(), r.status)),
      401,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/admin_token.ts", "ci"],
      cwd: new URL("../../", import.meta.url).pathname,
      env: { JWT_SECRETS: TEST_SECRET },
    }).output();
    const admin = new TextDecoder().decode(out.stdout).trim();
    const headers = { authorization: `Bearer ${admin}` };
    const memory = await fetch(`${url}/debug/memory`, { headers }).then((r) => r.json());
    assert.ok(memory.heap.used_heap_size > 0);
    const profile = await fetch(`${url}/debug/profile?seconds=1`, { headers }).then((r) =>
      r.json()
    );
    assert.ok(Array.isArray(profile.nodes));
    const heap = await fetch(`${url}/debug/heap`, { headers });
    assert.equal(heap.status, 200);
    const snapshot = JSON.parse(await heap.text());
    assert.ok(snapshot.snapshot.node_count > 0);
  },
);

Deno.test("gRPC health Watch streams the status; stream messages are counted", opts, async () => {
  const { Health } = await import("@platform/proto/grpc/health/v1");
  const health = rpcClient(Health, url, { protocol: "grpcweb", http: "1.1" });
  const controller = new AbortController();
  let first: number | undefined;
  try {
    for await (const update of health.watch({}, { signal: controller.signal })) {
      first = update.status;
      controller.abort();
    }
  } catch (error) {
    assert.equal((error as ConnectError).code, Code.Canceled);
  }
  assert.equal(first, 1); // SERVING
  const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
  assert.match(
    metrics,
    /grpc_server_msg_sent_total\{grpc_type="server_stream",grpc_service="platform.users.v1.UserService",grpc_method="ListOnlineDevelopers"\} [1-9]/,
  );
  assert.match(
    metrics,
    /grpc_server_started_total\{grpc_type="server_stream",grpc_service="grpc.health.v1.Health",grpc_method="Watch"\} 1/,
  );
});
