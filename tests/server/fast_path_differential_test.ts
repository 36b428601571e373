/**
 * The unary fast path against its oracle, connect-es: the same services run twice on one
 * PostgreSQL, Redis and NATS, once with the fast path (the default) and once with
 * RPC_FAST_PATH=false, and one corpus of requests goes to both: valid and malformed, Connect
 * (JSON, binary) and gRPC-web (binary, JSON), with and without tokens, every error code the
 * services answer, deadlines, over-size bodies, unknown fields, NUL bytes, wrong envelope flags,
 * compression, odd content types and methods. Every answer must match: HTTP status, content type
 * and protocol headers, Connect or gRPC code and message, and the decoded body (timestamps and
 * freshly made ids aside). So must the gRPC server metrics the corpus adds on each side.
 */
import assert from "node:assert/strict";
import { promisify } from "node:util";
import zlib from "node:zlib";
import {
  type DescMethod,
  type DescService,
  fromBinary,
  fromJson,
  type JsonValue,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { TokenService } from "@platform/lib/auth";
import { Health } from "@platform/proto/grpc/health/v1";
import { OrchestratorService } from "@platform/proto/orchestrator/v1";
import { TaskService } from "@platform/proto/tasks/v1";
import { UserService } from "@platform/proto/users/v1";
import { NatsServer } from "../harness/nats_server.ts";
import { PostgresServer } from "../harness/postgres_server.ts";
import { RedisServer } from "../harness/redis_server.ts";
import { ServiceProcess } from "../harness/service_process.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const SECRET = "differential-secret-0123456789-abcdefghij";
const MAX_BYTES = 64 * 1024;
const gzip = async (bytes: Uint8Array) =>
  new Uint8Array(await promisify(zlib.gzip)(bytes)) as Uint8Array<ArrayBuffer>;

type Side = "fast" | "stock";
const SIDES: Side[] = ["fast", "stock"];

// --- the two stacks ------------------------------------------------------------------------

const [pg, redis, nats] = await Promise.all([
  PostgresServer.start(),
  RedisServer.start(),
  NatsServer.start(),
]);
const databaseUrl = await pg.createDatabase("freelance_platform");
const base = {
  DATABASE_URL: databaseUrl,
  REDIS_URL: redis.url,
  NATS_URL: nats.url,
  JWT_SECRETS: SECRET,
  MAX_MESSAGE_BYTES: String(MAX_BYTES),
};
// One of each first, so migrations run once, then the second.
const fastUsers = await ServiceProcess.start("users", base);
const fastTasks = await ServiceProcess.start("tasks", base);
const [stockUsers, stockTasks] = await Promise.all([
  ServiceProcess.start("users", { ...base, RPC_FAST_PATH: "false" }),
  ServiceProcess.start("tasks", { ...base, RPC_FAST_PATH: "false" }),
]);
// The Orchestrator's two, on a NATS of their own: they never see the seeded tasks' events, so
// they make no calls of their own (matching) that would count on one side only.
const orchestratorNats = await NatsServer.start();
const orchestratorBase = { ...base, NATS_URL: orchestratorNats.url, USERS_URL: fastUsers.url };
const [fastOrchestrator, stockOrchestrator] = await Promise.all([
  ServiceProcess.start("orchestrator", orchestratorBase),
  ServiceProcess.start("orchestrator", { ...orchestratorBase, RPC_FAST_PATH: "false" }),
]);
const servers = {
  fast: { users: fastUsers.url, tasks: fastTasks.url, orchestrator: fastOrchestrator.url },
  stock: { users: stockUsers.url, tasks: stockTasks.url, orchestrator: stockOrchestrator.url },
};
type ServiceName = keyof typeof servers.fast;
/** The services under comparison, by the name `servers` knows them by. */
const SERVICES: ReadonlyArray<[ServiceName, DescService]> = [
  ["users", UserService],
  ["tasks", TaskService],
  ["orchestrator", OrchestratorService],
];

// --- what the corpus needs -------------------------------------------------------------------

const methods = new Map<string, DescMethod>();
for (const service of [UserService, TaskService, OrchestratorService, Health] as DescService[]) {
  for (const method of service.methods) methods.set(`/${service.typeName}/${method.name}`, method);
}

const tokens = new TokenService([SECRET], 3600);

async function call(url: string, path: string, body: unknown, token?: string) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const parsed = await res.json();
  if (res.status !== 200) throw new Error(`${path}: ${JSON.stringify(parsed)}`);
  return parsed;
}

const password = "correct horse battery staple";
const seeded = await (async () => {
  const users = servers.fast.users;
  const register = (email: string, role: string, displayName: string) =>
    call(users, "/platform.users.v1.UserService/Register", {
      email,
      password,
      role,
      display_name: displayName,
    });
  const dev = (await register("dev@example.com", "ROLE_DEVELOPER", "Dev")).user;
  const other = (await register("other@example.com", "ROLE_DEVELOPER", "Other")).user;
  const client = (await register("client@example.com", "ROLE_CLIENT", "Client")).user;
  // Enough developers with long profiles that a search answer is worth compressing (> 1 KiB).
  await Promise.all(
    Array.from(
      { length: 12 },
      (_, i) =>
        register(
          `crowd${i}@example.com`,
          "ROLE_DEVELOPER",
          `Crowd developer number ${i} `.repeat(3),
        ),
    ),
  );
  const login = async (email: string) =>
    (await call(users, "/platform.users.v1.UserService/Login", { email, password })).accessToken;
  const devToken = await login("dev@example.com");
  await call(users, "/platform.users.v1.UserService/UpdateProfile", {
    skill_tags: { tags: ["go", "postgresql"] },
    bio: "seeded",
  }, devToken);
  const clientToken = await login("client@example.com");
  const tasks: Record<Side, string> = { fast: "", stock: "" };
  for (const side of SIDES) {
    tasks[side] = (await call(servers.fast.tasks, "/platform.tasks.v1.TaskService/CreateTask", {
      title: `seeded task ${side}`,
      required_skills: ["go"],
      budget: { currency: "USD", amount_minor: "1000" },
    }, clientToken)).task.id;
  }
  const expired = await new TokenService([SECRET], 60).issue({
    subject: dev.id,
    role: "developer",
  }, -120);
  const forged = await new TokenService(["another-secret-0123456789-abcdefghijklmn"], 60).issue({
    subject: dev.id,
    role: "developer",
  });
  const admin = await tokens.issue({ subject: crypto.randomUUID(), role: "admin" });
  return {
    dev,
    other,
    client,
    devToken,
    clientToken,
    tasks,
    expiredToken: expired.token,
    forgedToken: forged.token,
    adminToken: admin.token,
  };
})();

// --- the corpus ------------------------------------------------------------------------------

interface Probe {
  name: string;
  service: ServiceName;
  path: string;
  method?: string;
  headers: Record<string, string>;
  body?: Uint8Array<ArrayBuffer> | string | "chunked";
  chunkedBody?: Uint8Array<ArrayBuffer>;
}

type ProbeFor = (side: Side) => Probe | Promise<Probe>;

const CODECS = ["connect-json", "connect-proto", "grpc-web-proto", "grpc-web-json"] as const;
type Codec = typeof CODECS[number];
const CONTENT_TYPE: Record<Codec, string> = {
  "connect-json": "application/json",
  "connect-proto": "application/proto",
  "grpc-web-proto": "application/grpc-web+proto",
  "grpc-web-json": "application/grpc-web+json",
};

function envelope(flags: number, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(5 + payload.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const utf8 = (text: string) => new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;

/** The request body of a logical call in one codec (JSON text kept as given for JSON codecs). */
function encode(path: string, codec: Codec, request: unknown): Uint8Array<ArrayBuffer> {
  const method = methods.get(path)!;
  const text = typeof request === "string" ? request : JSON.stringify(request);
  const bytes = codec.endsWith("json")
    ? utf8(text)
    : toBinary(method.input, fromJson(method.input, JSON.parse(text) as JsonValue)) as Uint8Array<
      ArrayBuffer
    >;
  return codec.startsWith("grpc-web") ? envelope(0, bytes) : bytes;
}

/** A logical call in every codec (only the JSON ones for input binary cannot express). */
function everyCodec(
  name: string,
  service: ServiceName,
  path: string,
  request: unknown | ((side: Side) => unknown),
  token?: string | ((side: Side) => string | undefined),
  extra: Record<string, string> = {},
  codecs: readonly Codec[] = CODECS,
): ProbeFor[] {
  return codecs.map((codec) => (side: Side) => {
    const body = typeof request === "function" ? (request as (s: Side) => unknown)(side) : request;
    const bearer = typeof token === "function" ? token(side) : token;
    return {
      name: `${name} [${codec}]`,
      service,
      path,
      headers: {
        "content-type": CONTENT_TYPE[codec],
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...extra,
      },
      body: encode(path, codec, body),
    };
  });
}

const JSON_CODECS: readonly Codec[] = ["connect-json", "grpc-web-json"];
const CONNECT: readonly Codec[] = ["connect-json", "connect-proto"];
const GRPC_WEB: readonly Codec[] = ["grpc-web-proto", "grpc-web-json"];
const U = "/platform.users.v1.UserService";
const T = "/platform.tasks.v1.TaskService";
const H = "/grpc.health.v1.Health/Check";
const s = seeded;

function raw(
  name: string,
  path: string,
  contentType: string | undefined,
  body: Uint8Array<ArrayBuffer> | string | undefined,
  headers: Record<string, string> = {},
  method = "POST",
  service: ServiceName = "users",
): ProbeFor {
  return () => ({
    name,
    service,
    path,
    method,
    headers: {
      ...(contentType ? { "content-type": contentType } : {}),
      authorization: `Bearer ${s.devToken}`,
      ...headers,
    },
    body,
  });
}

const corpus: ProbeFor[] = [
  // Reads, with every kind of token.
  ...everyCodec("GetUser self", "users", `${U}/GetUser`, { user_id: s.dev.id }, s.devToken),
  ...everyCodec("GetUser another", "users", `${U}/GetUser`, { user_id: s.client.id }, s.devToken),
  ...everyCodec("GetUser empty (me)", "users", `${U}/GetUser`, {}, s.devToken),
  ...everyCodec("GetUser admin view", "users", `${U}/GetUser`, { user_id: s.dev.id }, s.adminToken),
  ...everyCodec("GetUser unknown id", "users", `${U}/GetUser`, {
    user_id: "00000000-0000-4000-8000-000000000000",
  }, s.devToken),
  ...everyCodec(
    "GetUser malformed id",
    "users",
    `${U}/GetUser`,
    { user_id: "1; DROP" },
    s.devToken,
  ),
  ...everyCodec("GetUser NUL in id", "users", `${U}/GetUser`, { user_id: "a\u0000b" }, s.devToken),
  ...everyCodec("GetUser no token", "users", `${U}/GetUser`, { user_id: s.dev.id }),
  ...everyCodec("GetUser garbage token", "users", `${U}/GetUser`, {}, "garbage"),
  ...everyCodec("GetUser expired token", "users", `${U}/GetUser`, {}, s.expiredToken),
  ...everyCodec("GetUser forged token", "users", `${U}/GetUser`, {}, s.forgedToken),
  ...everyCodec("GetUser Basic auth", "users", `${U}/GetUser`, {}, undefined, {
    authorization: "Basic Zm9vOmJhcg==",
  }),
  ...everyCodec(
    "GetUser unknown field",
    "users",
    `${U}/GetUser`,
    `{"user_id":"${s.dev.id}","not_a_field":[1,2,{"x":null}]}`,
    s.devToken,
    {},
    JSON_CODECS,
  ),
  ...everyCodec("GetPublicProfile", "users", `${U}/GetPublicProfile`, {
    user_id: s.dev.id,
  }, s.clientToken),
  ...everyCodec("GetPublicProfile no id", "users", `${U}/GetPublicProfile`, {}, s.clientToken),
  ...everyCodec("GetUser custom header", "users", `${U}/GetUser`, {}, s.devToken, {
    "x-request-id": "abc",
    "connect-protocol-version": "1",
  }),
  // Deadlines.
  ...everyCodec("GetUser deadline", "users", `${U}/GetUser`, {}, s.devToken, {
    "connect-timeout-ms": "5000",
  }, CONNECT),
  ...everyCodec("GetUser deadline 0", "users", `${U}/GetUser`, {}, s.devToken, {
    "connect-timeout-ms": "0",
  }, CONNECT),
  ...everyCodec("GetUser bad deadline", "users", `${U}/GetUser`, {}, s.devToken, {
    "connect-timeout-ms": "soon",
  }, CONNECT),
  ...everyCodec("GetUser deadline too long", "users", `${U}/GetUser`, {}, s.devToken, {
    "connect-timeout-ms": "12345678901",
  }, CONNECT),
  ...everyCodec("GetUser grpc deadline", "users", `${U}/GetUser`, {}, s.devToken, {
    "grpc-timeout": "5S",
  }, GRPC_WEB),
  ...everyCodec("GetUser grpc deadline 1ns", "users", `${U}/GetUser`, {}, s.devToken, {
    "grpc-timeout": "1n",
  }, GRPC_WEB),
  ...everyCodec("GetUser bad grpc deadline", "users", `${U}/GetUser`, {}, s.devToken, {
    "grpc-timeout": "1 second",
  }, GRPC_WEB),
  ...everyCodec("GetUser bad deadline, no token", "users", `${U}/GetUser`, {}, undefined, {
    "connect-timeout-ms": "soon",
    "grpc-timeout": "never",
  }),
  // Searches and enums.
  ...everyCodec("SearchDevelopers all", "users", `${U}/SearchDevelopers`, {}, s.devToken),
  ...everyCodec("SearchDevelopers any", "users", `${U}/SearchDevelopers`, {
    skill_tags: ["go", "rust"],
    match: "SKILL_MATCH_ANY",
  }, s.devToken),
  ...everyCodec(
    "SearchDevelopers unknown enum name",
    "users",
    `${U}/SearchDevelopers`,
    {
      match: "SKILL_MATCH_SOMETIMES",
    },
    s.devToken,
    {},
    JSON_CODECS,
  ),
  ...everyCodec("SearchDevelopers enum number 99", "users", `${U}/SearchDevelopers`, {
    match: 99,
  }, s.devToken),
  ...everyCodec("SearchDevelopers page size", "users", `${U}/SearchDevelopers`, {
    page_size: 1000,
  }, s.devToken),
  ...everyCodec("SearchDevelopers page token", "users", `${U}/SearchDevelopers`, {
    page_token: "bogus",
  }, s.devToken),
  ...everyCodec(
    "SearchDevelopers lone surrogate",
    "users",
    `${U}/SearchDevelopers`,
    '{"page_size":"\\ud800"}',
    s.devToken,
    {},
    JSON_CODECS,
  ),
  ...everyCodec(
    "SearchDevelopers lone surrogate in a tag",
    "users",
    `${U}/SearchDevelopers`,
    '{"skill_tags":["go\\udfff"]}',
    s.devToken,
    {},
    JSON_CODECS,
  ),
  ...everyCodec(
    "SearchDevelopers gzip accepted",
    "users",
    `${U}/SearchDevelopers`,
    {},
    s.devToken,
    {
      "accept-encoding": "gzip",
    },
    CONNECT,
  ),
  ...everyCodec("SearchDevelopers br accepted", "users", `${U}/SearchDevelopers`, {}, s.devToken, {
    "accept-encoding": "br, gzip",
  }, CONNECT),
  // Writes and their errors.
  ...everyCodec("UpdateProfile", "users", `${U}/UpdateProfile`, {
    bio: "written by the corpus",
  }, s.devToken),
  ...everyCodec(
    "UpdateProfile NUL",
    "users",
    `${U}/UpdateProfile`,
    { bio: "nul\u0000here" },
    s.devToken,
  ),
  ...everyCodec("UpdateProfile another's", "users", `${U}/UpdateProfile`, {
    user_id: s.other.id,
    bio: "not mine",
  }, s.devToken),
  ...everyCodec("UpdateProfile long name", "users", `${U}/UpdateProfile`, {
    display_name: "x".repeat(101),
  }, s.devToken),
  ...everyCodec("UpdateProfile bad currency", "users", `${U}/UpdateProfile`, {
    hourly_rate: { currency: "XYZ", amount_minor: "1" },
  }, s.devToken),
  ...everyCodec("Heartbeat while offline", "users", `${U}/Heartbeat`, {}, s.devToken),
  ...everyCodec("GoOnline as a client", "users", `${U}/GoOnline`, {}, s.clientToken),
  ...everyCodec("GoOnline", "users", `${U}/GoOnline`, {}, s.devToken),
  ...everyCodec("Heartbeat", "users", `${U}/Heartbeat`, {}, s.devToken),
  ...everyCodec("GoOffline", "users", `${U}/GoOffline`, {}, s.devToken),
  ...everyCodec("Register taken email", "users", `${U}/Register`, {
    email: "DEV@example.com",
    password,
    role: "ROLE_CLIENT",
  }),
  ...everyCodec("Register bad email", "users", `${U}/Register`, {
    email: "not-an-email",
    password,
    role: "ROLE_CLIENT",
  }),
  ...everyCodec("Register as admin", "users", `${U}/Register`, {
    email: "x@example.com",
    password,
    role: "ROLE_ADMIN",
  }),
  ...everyCodec("Login wrong password", "users", `${U}/Login`, {
    email: "dev@example.com",
    password: "wrong password",
  }),
  ...everyCodec("Login with a bad token", "users", `${U}/Login`, {
    email: "dev@example.com",
    password,
  }, "garbage"),
  // Health.
  ...everyCodec("Health/Check", "users", H, {}),
  ...everyCodec("Health/Check service", "users", H, { service: "platform.users.v1.UserService" }),
  ...everyCodec("Health/Check unknown service", "users", H, { service: "nope" }),
  ...everyCodec("Health/Check with a token", "users", H, {}, s.devToken),
  // The Task Service.
  ...everyCodec("CreateTask", "tasks", `${T}/CreateTask`, {
    title: "made by the corpus",
    required_skills: ["go"],
    budget: { currency: "USD", amount_minor: "5000" },
  }, s.clientToken),
  ...everyCodec("CreateTask as a developer", "tasks", `${T}/CreateTask`, {
    title: "nope",
  }, s.devToken),
  ...everyCodec("CreateTask no title", "tasks", `${T}/CreateTask`, { title: " " }, s.clientToken),
  ...everyCodec("GetTask", "tasks", `${T}/GetTask`, (side: Side) => ({
    task_id: s.tasks[side],
  }), s.clientToken),
  ...everyCodec("GetTask unknown", "tasks", `${T}/GetTask`, {
    task_id: "00000000-0000-4000-8000-000000000000",
  }, s.clientToken),
  ...everyCodec("ListTasks", "tasks", `${T}/ListTasks`, { page_size: 3 }, s.clientToken),
  ...everyCodec(
    "ListTasks unknown status name",
    "tasks",
    `${T}/ListTasks`,
    {
      status: "TASK_STATUS_BOGUS",
    },
    s.clientToken,
    {},
    JSON_CODECS,
  ),
  ...everyCodec("ListTasks status 99", "tasks", `${T}/ListTasks`, { status: 99 }, s.clientToken),
  ...everyCodec(
    "UpdateTask misspelt nested field",
    "tasks",
    `${T}/UpdateTask`,
    (side: Side) => ({ task_id: s.tasks[side], required_skills: { tags: ["go"] } }),
    s.clientToken,
    {},
    JSON_CODECS,
  ),
  ...everyCodec(
    "UpdateTask unknown top-level field",
    "tasks",
    `${T}/UpdateTask`,
    (side: Side) => ({ task_id: s.tasks[side], skills: ["go"] }),
    s.clientToken,
    {},
    JSON_CODECS,
  ),
  ...everyCodec(
    "UpdateTask unknown field in a Money",
    "tasks",
    `${T}/UpdateTask`,
    (side: Side) => ({ task_id: s.tasks[side], budget: { currency: "USD", amount: 5 } }),
    s.clientToken,
    {},
    JSON_CODECS,
  ),
  ...everyCodec("UpdateTask no skills left", "tasks", `${T}/UpdateTask`, (side: Side) => ({
    task_id: s.tasks[side],
    required_skills: { skills: [] },
  }), s.clientToken),
  raw(
    "proto unknown field ignored",
    `${U}/GetUser`,
    "application/proto",
    new Uint8Array([0xf8, 0x06, 0x01]), // field 111, varint 1: not in GetUserRequest
  ),

  ...everyCodec("StartTask on an open task", "tasks", `${T}/StartTask`, (side: Side) => ({
    task_id: s.tasks[side],
  }), s.clientToken),
  ...everyCodec(
    "CancelTask",
    "tasks",
    `${T}/CancelTask`,
    (side: Side) => ({
      task_id: s.tasks[side],
      reason: "corpus",
    }),
    s.clientToken,
    {},
    ["connect-json"],
  ),
  ...everyCodec("CancelTask again", "tasks", `${T}/CancelTask`, (side: Side) => ({
    task_id: s.tasks[side],
  }), s.clientToken),
  // Malformed Connect bodies.
  raw("malformed JSON", `${U}/GetUser`, "application/json", "{not json"),
  raw("JSON array", `${U}/GetUser`, "application/json", "[]"),
  raw("JSON null", `${U}/GetUser`, "application/json", "null"),
  raw("JSON wrong type", `${U}/GetUser`, "application/json", '{"user_id":1}'),
  raw("JSON duplicate keys", `${U}/GetUser`, "application/json", '{"user_id":"a","user_id":"b"}'),
  raw("JSON empty body", `${U}/GetUser`, "application/json", ""),
  raw("JSON raw NUL", `${U}/GetUser`, "application/json", utf8('{"user_id":"\u0000"}')),
  raw("JSON invalid UTF-8", `${U}/GetUser`, "application/json", new Uint8Array([0x7b, 0xff, 0x7d])),
  raw(
    "proto garbage",
    `${U}/GetUser`,
    "application/proto",
    new Uint8Array([0x0a, 0xff, 0xff, 0xff]),
  ),
  raw("proto empty", `${U}/GetUser`, "application/proto", new Uint8Array()),
  raw(
    "proto wrong wire type",
    `${U}/GetUser`,
    "application/proto",
    new Uint8Array([0x0d, 1, 2, 3, 4]),
  ),
  raw("charset JSON", `${U}/GetUser`, "application/json; charset=utf-8", "{}"),
  raw("upper-case JSON", `${U}/GetUser`, "APPLICATION/JSON", "{}"),
  raw("charset=UTF-8 without space", `${U}/GetUser`, "application/json;charset=UTF-8", "{}"),
  raw("text/plain", `${U}/GetUser`, "text/plain", "{}"),
  raw("no content type", `${U}/GetUser`, undefined, "{}"),
  raw("connect streaming type to unary", `${U}/GetUser`, "application/connect+json", "{}"),
  raw("GET", `${U}/GetUser`, undefined, undefined, {}, "GET"),
  raw("PUT", `${U}/GetUser`, "application/json", "{}", {}, "PUT"),
  raw("unknown method", `${U}/Nope`, "application/json", "{}"),
  raw(
    "over-size JSON",
    `${U}/UpdateProfile`,
    "application/json",
    `{"bio":"${"x".repeat(MAX_BYTES)}"}`,
  ),
  raw("over-size proto", `${U}/GetUser`, "application/proto", new Uint8Array(MAX_BYTES + 1)),
  raw("over-size, no token", `${U}/GetUser`, "application/json", "x".repeat(MAX_BYTES + 1), {
    authorization: "",
  }),
  raw("gzip request", `${U}/GetUser`, "application/json", await gzip(utf8("{}")), {
    "content-encoding": "gzip",
  }),
  raw("corrupt gzip", `${U}/GetUser`, "application/json", utf8("not gzip"), {
    "content-encoding": "gzip",
  }),
  raw("br request", `${U}/GetUser`, "application/json", "{}", { "content-encoding": "br" }),
  raw("identity request", `${U}/GetUser`, "application/json", "{}", {
    "content-encoding": "identity",
  }),
  () => ({
    name: "chunked JSON body",
    service: "users",
    path: `${U}/GetUser`,
    headers: { "content-type": "application/json", authorization: `Bearer ${s.devToken}` },
    body: "chunked",
    chunkedBody: utf8(`{"user_id":"${s.dev.id}"}`),
  }),
  // Malformed gRPC-web bodies.
  raw("grpc-web empty body", `${U}/GetUser`, "application/grpc-web+proto", new Uint8Array()),
  raw("grpc-web no suffix", `${U}/GetUser`, "application/grpc-web", envelope(0, new Uint8Array())),
  raw(
    "grpc-web two messages",
    `${U}/GetUser`,
    "application/grpc-web+proto",
    concat(envelope(0, new Uint8Array()), envelope(0, new Uint8Array())),
  ),
  raw(
    "grpc-web short header",
    `${U}/GetUser`,
    "application/grpc-web+proto",
    new Uint8Array([0, 0, 0]),
  ),
  raw(
    "grpc-web incomplete payload",
    `${U}/GetUser`,
    "application/grpc-web+proto",
    new Uint8Array([0, 0, 0, 0, 9, 1, 2]),
  ),
  raw(
    "grpc-web trailing garbage",
    `${U}/GetUser`,
    "application/grpc-web+proto",
    concat(envelope(0, new Uint8Array()), new Uint8Array([1, 2])),
  ),
  raw(
    "grpc-web garbage message",
    `${U}/GetUser`,
    "application/grpc-web+proto",
    envelope(0, new Uint8Array([0x0a, 0xff, 0xff])),
  ),
  raw(
    "grpc-web garbage then extra",
    `${U}/GetUser`,
    "application/grpc-web+proto",
    concat(envelope(0, new Uint8Array()), envelope(0, new Uint8Array([0x0a, 0xff]))),
  ),
  raw(
    "grpc-web JSON malformed",
    `${U}/GetUser`,
    "application/grpc-web+json",
    envelope(0, utf8("{oops")),
  ),
  raw(
    "grpc-web declared length over the limit",
    `${U}/GetUser`,
    "application/grpc-web+proto",
    new Uint8Array([0, 0x10, 0, 0, 0, 1, 2, 3]),
  ),
  ...[0x01, 0x02, 0x80, 0x81, 0xff].map((flags) =>
    raw(
      `grpc-web flags 0x${flags.toString(16)}`,
      `${U}/GetUser`,
      "application/grpc-web+proto",
      envelope(flags, new Uint8Array()),
    )
  ),
  raw(
    "grpc-web good message then flags 0x80",
    `${U}/GetUser`,
    "application/grpc-web+proto",
    concat(envelope(0, new Uint8Array()), envelope(0x80, utf8("grpc-status: 0\r\n"))),
  ),
  raw(
    "grpc-web bad flags, no token",
    `${U}/GetUser`,
    "application/grpc-web+proto",
    envelope(0xff, new Uint8Array()),
    { authorization: "" },
  ),
  raw(
    "grpc-web gzip",
    `${U}/GetUser`,
    "application/grpc-web+proto",
    envelope(1, await gzip(new Uint8Array())),
    { "grpc-encoding": "gzip" },
  ),
  raw("grpc-web br", `${U}/GetUser`, "application/grpc-web+proto", envelope(0, new Uint8Array()), {
    "grpc-encoding": "br",
  }),
  raw(
    "grpc-web accepts gzip",
    `${U}/SearchDevelopers`,
    "application/grpc-web+proto",
    envelope(0, new Uint8Array()),
    { "grpc-accept-encoding": "gzip" },
  ),
  raw("grpc-web-text", `${U}/GetUser`, "application/grpc-web-text", btoa("\0\0\0\0\0")),
  raw("native gRPC", `${U}/GetUser`, "application/grpc", envelope(0, new Uint8Array())),
  raw("streaming method as unary JSON", `${U}/ListOnlineDevelopers`, "application/json", "{}"),
];

/**
 * Probes made from the services' descriptors: every unary RPC of the User, Task and Orchestrator
 * services, in every codec, without a token, with a garbage token, and with a valid token but a
 * body that does not decode. None reaches a handler that writes (a public RPC gets an empty,
 * invalid request), so the run stays the same on both sides; a new RPC is compared without anyone
 * adding probes.
 */
function generatedProbes(): ProbeFor[] {
  const probes: ProbeFor[] = [];
  for (const [service, desc] of SERVICES) {
    for (const method of desc.methods) {
      if (method.methodKind !== "unary") continue;
      const path = `/${desc.typeName}/${method.name}`;
      const name = `generated ${desc.name}/${method.name}`;
      probes.push(
        ...everyCodec(`${name} no token`, service, path, {}),
        ...everyCodec(`${name} garbage token`, service, path, {}, "garbage"),
      );
      for (const codec of CODECS) {
        const bytes = codec.endsWith("json") ? utf8("{") : new Uint8Array([0xff]);
        probes.push(
          raw(
            `${name} undecodable body [${codec}]`,
            path,
            CONTENT_TYPE[codec],
            codec.startsWith("grpc-web") ? envelope(0, bytes) : bytes as Uint8Array<ArrayBuffer>,
            {},
            "POST",
            service,
          ),
        );
      }
    }
  }
  return probes;
}
corpus.push(...generatedProbes());

// --- sending and reading ---------------------------------------------------------------------

interface Observed {
  status: number;
  headers: Record<string, string>;
  code?: string;
  message?: string;
  body: unknown;
}

const PROTOCOL_HEADERS = [
  "content-type",
  "content-encoding",
  "accept-encoding",
  "grpc-accept-encoding",
  "grpc-encoding",
  "connect-accept-encoding",
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
];

async function send(probe: Probe, side: Side): Promise<Observed> {
  const url = `${servers[side][probe.service]}${probe.path}`;
  const headers = Object.fromEntries(Object.entries(probe.headers).filter(([, v]) => v !== ""));
  const init: RequestInit & { duplex?: string } = { method: probe.method ?? "POST", headers };
  if (probe.body === "chunked") {
    const bytes = probe.chunkedBody!;
    init.body = new ReadableStream({
      start(controller) {
        controller.enqueue(bytes.subarray(0, 3));
        controller.enqueue(bytes.subarray(3));
        controller.close();
      },
    });
    init.duplex = "half";
  } else if (probe.body !== undefined) {
    init.body = probe.body;
  }
  const res = await fetch(url, init);
  let bytes = new Uint8Array(await res.arrayBuffer());
  // fetch leaves the body compressed when the caller set accept-encoding itself.
  if (bytes[0] === 0x1f && bytes[1] === 0x8b && res.headers.get("content-encoding") === "gzip") {
    bytes = new Uint8Array(zlib.gunzipSync(bytes));
  }
  const seen: Observed = { status: res.status, headers: {}, body: undefined };
  res.headers.forEach((value, key) => {
    if (PROTOCOL_HEADERS.includes(key) || key.startsWith("trailer-")) seen.headers[key] = value;
  });
  const contentType = res.headers.get("content-type") ?? "";
  const method = methods.get(probe.path);
  if (contentType.startsWith("application/grpc")) {
    const messages: unknown[] = [];
    let trailer: Record<string, string> | undefined;
    let offset = 0;
    while (offset + 5 <= bytes.length) {
      const length = new DataView(bytes.buffer, offset).getUint32(1);
      let payload = bytes.subarray(offset + 5, offset + 5 + length);
      if (bytes[offset] & 0x01) payload = new Uint8Array(zlib.gunzipSync(payload));
      if (bytes[offset] & 0x80) {
        trailer = Object.fromEntries(
          new TextDecoder().decode(payload).split("\r\n").filter(Boolean).map((line) => {
            const i = line.indexOf(":");
            return [line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()];
          }),
        );
      } else if (contentType.includes("json")) {
        messages.push(JSON.parse(new TextDecoder().decode(payload)));
      } else {
        messages.push(toJson(method!.output, fromBinary(method!.output, payload)));
      }
      offset += 5 + length;
    }
    const status = trailer?.["grpc-status"] ?? res.headers.get("grpc-status") ?? undefined;
    seen.code = status;
    seen.message = decodeURIComponent(
      trailer?.["grpc-message"] ?? res.headers.get("grpc-message") ?? "",
    );
    seen.body = { messages, trailer, leftover: bytes.length - offset };
  } else if (contentType.startsWith("application/json")) {
    seen.body = bytes.length ? JSON.parse(new TextDecoder().decode(bytes)) : undefined;
    if (res.status !== 200) {
      const error = seen.body as { code?: string; message?: string } | undefined;
      seen.code = error?.code;
      seen.message = error?.message;
    }
  } else if (contentType.startsWith("application/proto") && method) {
    try {
      seen.body = toJson(method.output, fromBinary(method.output, bytes));
    } catch (error) {
      throw new Error(
        `${probe.name} (${side}): cannot decode ${bytes.length} bytes ` +
          `${JSON.stringify([...res.headers])}: ${error}`,
      );
    }
  } else {
    seen.body = new TextDecoder().decode(bytes);
  }
  return seen;
}

/** Timestamps, tokens and the ids of things made during the run differ between the sides. */
function normalize(value: unknown, side: Side): unknown {
  const ids = new Map<string, string>([
    [s.dev.id, "<dev>"],
    [s.other.id, "<other>"],
    [s.client.id, "<client>"],
    [s.tasks[side], "<seeded-task>"],
  ]);
  const walk = (v: unknown, key?: string): unknown => {
    if (typeof v === "string") {
      if (key && /^(createdAt|updatedAt|expiresAt|lastSeenAt|accessToken|at|deadline)$/.test(key)) {
        return "<volatile>";
      }
      return v.replace(
        /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi,
        (id) => ids.get(id.toLowerCase()) ?? "<made-in-the-run>",
      ).replace(/seeded task (fast|stock)/, "seeded task <side>");
    }
    if (Array.isArray(v)) return v.map((item) => walk(item));
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, k)]));
    }
    return v;
  };
  return walk(value);
}

async function handledCounts(url: string): Promise<Map<string, number>> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(grpc_server_(?:handled|started|msg_received|msg_sent)_total)\{([^}]*)\} (\S+)$/
      .exec(line);
    if (match && !match[2].includes('grpc.health.v1.Health",grpc_method="Watch')) {
      counts.set(`${match[1]}{${match[2]}}`, Number(match[3]));
    }
  }
  return counts;
}

function diff(after: Map<string, number>, before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of after) {
    const delta = value - (before.get(key) ?? 0);
    if (delta !== 0) out[key] = delta;
  }
  return out;
}

// --- the test --------------------------------------------------------------------------------

Deno.test(
  "the fast path answers every request of the corpus exactly as connect-es",
  opts,
  async () => {
    const counts = (side: Side) =>
      Promise.all(SERVICES.map(([name]) => handledCounts(servers[side][name])));
    const before = { fast: await counts("fast"), stock: await counts("stock") };
    const mismatches: string[] = [];
    let compared = 0;
    for (const make of corpus) {
      const fastProbe = await make("fast");
      const stockProbe = await make("stock");
      const fast = normalize(await send(fastProbe, "fast"), "fast");
      const stock = normalize(await send(stockProbe, "stock"), "stock");
      compared++;
      try {
        assert.deepEqual(fast, stock);
      } catch {
        mismatches.push(
          `${fastProbe.name}:\n  fast:  ${JSON.stringify(fast)}\n  stock: ${JSON.stringify(stock)}`,
        );
      }
    }
    assert.deepEqual(mismatches, [], `${mismatches.length} of ${compared} answers differ`);
    console.log(`${compared} requests, each answered alike by the fast path and connect-es`);
    assert.ok(compared > 250, `only ${compared} probes`);

    // Every call is counted the same on both sides, those refused before a handler ran included.
    const after = { fast: await counts("fast"), stock: await counts("stock") };
    for (const [i, [name]] of SERVICES.entries()) {
      assert.deepEqual(
        diff(after.fast[i], before.fast[i]),
        diff(after.stock[i], before.stock[i]),
        `metrics of the ${name} service`,
      );
    }
    // The fast side really took the fast path for most calls, the stock side never did.
    const fastCalls = async (url: string) =>
      Number(
        /^rpc_fast_path_calls_total (\d+)$/m.exec(
          await fetch(`${url}/metrics`).then((r) => r.text()),
        )?.[1],
      );
    const served = async (side: Side) =>
      (await Promise.all(SERVICES.map(([name]) => fastCalls(servers[side][name])))).reduce(
        (a, b) => a + b,
        0,
      );
    const fastServed = await served("fast");
    assert.ok(fastServed > compared / 2, `the fast path served only ${fastServed} of ${compared}`);
    assert.equal(await served("stock"), 0);
    // Nothing logged at error level on either side.
    const all = [fastUsers, fastTasks, fastOrchestrator, stockUsers, stockTasks, stockOrchestrator];
    for (const process of all) {
      const errors = process.logs().filter((line) => line.level === "error");
      assert.deepEqual(errors, [], `${process.name} logged errors`);
    }
  },
);

Deno.test("stop the stacks", opts, async () => {
  await Promise.all(
    [fastUsers, fastTasks, fastOrchestrator, stockUsers, stockTasks, stockOrchestrator].map((p) =>
      p.stop()
    ),
  );
  await Promise.all([redis.stop(), nats.destroy(), orchestratorNats.destroy()]);
  await pg.destroy();
});
