/**
 * Native gRPC (grpc-js over h2c) against the Connect paths (connect-es clients: Connect over
 * HTTP/1.1 and h2c, gRPC-web over HTTP/1.1): one corpus of calls, the same answers required of
 * every path (code, message, decoded body), for unary and server-streaming calls, errors, auth,
 * deadlines and the size limit.
 */
import assert from "node:assert/strict";
import {
  create,
  type DescMessage,
  type DescMethod,
  fromBinary,
  type MessageShape,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { Health } from "@platform/proto/grpc/health/v1";
import { UserService } from "@platform/proto/users/v1";
import { rpcClient } from "../harness/rpc_clients.ts";
import { signUp, startUsersEnv } from "../users/users_env.ts";
import { grpcClient, serverStreamCall, unaryCall } from "./grpc_js_client.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const env = await startUsersEnv({ MAX_MESSAGE_BYTES: "4096" });
const target = `127.0.0.1:${env.users.port}`;
const developer = await signUp(env.users.url, "developer");
const other = await signUp(env.users.url, "developer");
await developer.client.goOnline({});
await other.client.goOnline({});

/** One call of the corpus. */
interface Case {
  name: string;
  method: DescMethod;
  request: Record<string, unknown>;
  token?: string;
  timeoutMs?: number;
  /** Compare the code only (a deadline's message is the client's own). */
  codeOnly?: boolean;
  /** Every path's message matches this (the size differs with the encoding, JSON or binary). */
  messageLike?: RegExp;
}

/** What every path must agree on. */
interface Answer {
  code: number;
  message: string;
  bodies: unknown[];
}

const method = (service: typeof UserService | typeof Health, name: string) =>
  service.methods.find((m) => m.name === name)!;

const CORPUS: Case[] = [
  {
    name: "GetUser, own profile",
    method: method(UserService, "GetUser"),
    request: { userId: developer.id },
    token: developer.token,
  },
  {
    name: "GetUser, another's",
    method: method(UserService, "GetUser"),
    request: { userId: other.id },
    token: developer.token,
  },
  {
    name: "GetUser, no token",
    method: method(UserService, "GetUser"),
    request: { userId: developer.id },
  },
  {
    name: "GetUser, a bad token",
    method: method(UserService, "GetUser"),
    request: { userId: developer.id },
    token: "not-a-token",
  },
  {
    name: "GetUser, not a UUID",
    method: method(UserService, "GetUser"),
    request: { userId: "nope" },
    token: developer.token,
  },
  {
    name: "GetUser, unknown",
    method: method(UserService, "GetUser"),
    request: { userId: crypto.randomUUID() },
    token: developer.token,
  },
  {
    name: "UpdateProfile, over MAX_MESSAGE_BYTES",
    method: method(UserService, "UpdateProfile"),
    request: { bio: "x".repeat(8000) },
    token: developer.token,
    codeOnly: true,
    messageLike: /^message size \d+ is larger than configured readMaxBytes 4096$/,
  },
  {
    name: "Health/Check",
    method: method(Health, "Check"),
    request: {},
  },
  {
    name: "Health/Check, unknown service",
    method: method(Health, "Check"),
    request: { service: "nope.Service" },
  },
  {
    name: "ListOnlineDevelopers",
    method: method(UserService, "ListOnlineDevelopers"),
    request: {},
    token: developer.token,
  },
  {
    name: "ListOnlineDevelopers, limit 1",
    method: method(UserService, "ListOnlineDevelopers"),
    request: { limit: 1 },
    token: developer.token,
  },
  {
    name: "ListOnlineDevelopers, bad limit",
    method: method(UserService, "ListOnlineDevelopers"),
    request: { limit: -1 },
    token: developer.token,
  },
  {
    name: "ListOnlineDevelopers, no token",
    method: method(UserService, "ListOnlineDevelopers"),
    request: {},
  },
  {
    name: "Health/Watch past its deadline",
    method: method(Health, "Watch"),
    request: {},
    timeoutMs: 400,
    codeOnly: true,
  },
];

function bodiesAsJson(schema: DescMessage, messages: MessageShape<DescMessage>[]): unknown[] {
  return messages.map((m) => toJson(schema, m));
}

async function viaGrpcJs(c: Case): Promise<Answer> {
  const client = grpcClient(target);
  try {
    const path = `/${c.method.parent.typeName}/${c.method.name}`;
    const request = toBinary(c.method.input, create(c.method.input, c.request));
    const options = {
      metadata: c.token ? { authorization: `Bearer ${c.token}` } : undefined,
      deadlineMs: c.timeoutMs,
    };
    const outcome = c.method.methodKind === "unary"
      ? await unaryCall(client, path, request, options)
      : await serverStreamCall(client, path, request, options);
    const messages = outcome.messages.map((bytes) => fromBinary(c.method.output, bytes));
    return {
      code: outcome.code,
      message: outcome.details,
      bodies: bodiesAsJson(c.method.output, messages),
    };
  } finally {
    client.close();
  }
}

async function viaConnectEs(
  c: Case,
  flavour: Parameters<typeof rpcClient>[2],
): Promise<Answer> {
  const service = c.method.parent;
  // deno-lint-ignore no-explicit-any
  const client = rpcClient(service, env.users.url, flavour, c.token) as any;
  const call = { timeoutMs: c.timeoutMs };
  const messages: MessageShape<DescMessage>[] = [];
  try {
    if (c.method.methodKind === "unary") {
      messages.push(await client[c.method.localName](c.request, call));
    } else {
      for await (const m of client[c.method.localName](c.request, call)) messages.push(m);
    }
    return { code: 0, message: "", bodies: bodiesAsJson(c.method.output, messages) };
  } catch (error) {
    const e = ConnectError.from(error);
    return {
      code: e.code,
      message: e.rawMessage,
      bodies: bodiesAsJson(c.method.output, messages),
    };
  }
}

const FLAVOURS = [
  { protocol: "connect", http: "1.1" },
  { protocol: "connect", http: "h2c", binary: true },
  { protocol: "grpcweb", http: "1.1", binary: true },
] as const;

for (const c of CORPUS) {
  Deno.test(`native gRPC answers as Connect and gRPC-web: ${c.name}`, opts, async () => {
    const native = await viaGrpcJs(c);
    for (const flavour of FLAVOURS) {
      const other = await viaConnectEs(c, flavour);
      const label = `${flavour.protocol} ${flavour.http}`;
      assert.equal(Code[native.code], Code[other.code], `${label}: ${other.message}`);
      if (c.messageLike) {
        assert.match(native.message, c.messageLike);
        assert.match(other.message, c.messageLike);
      }
      if (c.codeOnly) continue;
      assert.equal(native.message, other.message, label);
      assert.deepEqual(native.bodies, other.bodies, label);
    }
  });
}

Deno.test("the corpus covers successes and failures of both kinds", opts, async () => {
  const answers = await Promise.all(CORPUS.map(viaGrpcJs));
  const codes = new Set(answers.map((a) => Code[a.code]));
  for (const expected of ["0", "Unauthenticated", "InvalidArgument", "NotFound"]) {
    assert.ok(codes.has(expected) || (expected === "0" && answers.some((a) => a.code === 0)));
  }
  assert.ok(codes.has("ResourceExhausted"), "the size limit answers resource_exhausted");
  assert.ok(codes.has("DeadlineExceeded"));
});

Deno.test("teardown", opts, async () => {
  await env.stop();
});
