/**
 * The operations manual's two grpcurl commands, replayed with a native gRPC client (grpcurl is
 * neither in Debian nor buildable here): what grpcurl sends, over h2c with `te: trailers`, and
 * what it would print.
 *
 * `grpcurl -plaintext localhost:50051 list`: a reflection stream with `list_services` (older
 * grpcurl asks v1alpha, newer v1), printed sorted, one per line.
 *
 * `grpcurl -plaintext localhost:50051 platform.users.v1.UserService/ListOnlineDevelopers`:
 * `file_containing_symbol` for the service, the method resolved from the returned descriptors,
 * then the server stream with an empty request; each message printed as JSON, decoded with the
 * reflected descriptors (grpcurl has no .proto). The method needs a token: verbatim, grpcurl
 * prints the Unauthenticated error; with `-H "authorization: Bearer $TOKEN"` the developers.
 */
import assert from "node:assert/strict";
import { create, createFileRegistry, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import * as v1 from "@platform/proto/grpc/reflection/v1";
import * as v1alpha from "@platform/proto/grpc/reflection/v1alpha";
import { signUp, startUsersEnv } from "../users/users_env.ts";
import { bidiCall, grpcClient, serverStreamCall } from "./grpc_js_client.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const env = await startUsersEnv();
const target = `127.0.0.1:${env.users.port}`;
const dev1 = await signUp(env.users.url, "developer");
const dev2 = await signUp(env.users.url, "developer");
await dev1.client.goOnline({});
await dev2.client.goOnline({});

const EXPECTED_LIST = [
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
  "platform.users.v1.UserService",
].join("\n");

Deno.test("grpcurl list: reflection list_services over v1alpha and v1", opts, async () => {
  const client = grpcClient(target);
  try {
    for (const [version, pkg] of [["v1alpha", v1alpha], ["v1", v1]] as const) {
      const schema = pkg.ServerReflectionRequestSchema as typeof v1.ServerReflectionRequestSchema;
      const request = toBinary(
        schema,
        create(schema, {
          host: "localhost:50051",
          messageRequest: { case: "listServices", value: "" },
        }),
      );
      const outcome = await bidiCall(
        client,
        `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
        [request],
      );
      assert.equal(outcome.code, 0, outcome.details);
      assert.equal(outcome.messages.length, 1);
      const response = fromBinary(
        pkg.ServerReflectionResponseSchema as typeof v1.ServerReflectionResponseSchema,
        outcome.messages[0],
      );
      assert.equal(response.messageResponse.case, "listServicesResponse");
      const names = response.messageResponse.value.service.map((s) => s.name);
      // What grpcurl prints: the names, sorted, one per line.
      assert.equal([...names].sort().join("\n"), EXPECTED_LIST, version);
    }
  } finally {
    client.close();
  }
});

Deno.test(
  "grpcurl ListOnlineDevelopers: symbol lookup, then the stream as JSON",
  opts,
  async () => {
    const client = grpcClient(target);
    try {
      const lookup = await bidiCall(
        client,
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        [toBinary(
          v1alpha.ServerReflectionRequestSchema,
          create(v1alpha.ServerReflectionRequestSchema, {
            host: "localhost:50051",
            messageRequest: {
              case: "fileContainingSymbol",
              value: "platform.users.v1.UserService",
            },
          }),
        )],
      );
      assert.equal(lookup.code, 0, lookup.details);
      const response = fromBinary(v1alpha.ServerReflectionResponseSchema, lookup.messages[0]);
      assert.equal(response.messageResponse.case, "fileDescriptorResponse");
      // grpcurl builds its schema from these descriptors alone.
      const files = response.messageResponse.value.fileDescriptorProto.map((bytes) =>
        fromBinary(FileDescriptorProtoSchema, bytes)
      );
      const byName = new Map(files.map((file) => [file.name, file]));
      const registry = createFileRegistry(files[0], (name) => byName.get(name));
      const service = registry.getService("platform.users.v1.UserService");
      const method = service?.methods.find((m) => m.name === "ListOnlineDevelopers");
      assert.ok(method, "ListOnlineDevelopers is in the reflected schema");
      assert.equal(method.methodKind, "server_streaming");
      const path = `/${service!.typeName}/${method.name}`;
      const emptyRequest = toBinary(method.input, create(method.input));

      // Verbatim: no token. grpcurl prints "ERROR:\n  Code: Unauthenticated\n  Message: ...".
      const anonymous = await serverStreamCall(client, path, emptyRequest);
      assert.equal(anonymous.code, Code.Unauthenticated);
      assert.match(anonymous.details, /needs a token/);

      // With -H "authorization: Bearer $TOKEN": one JSON object per developer.
      const streamed = await serverStreamCall(client, path, emptyRequest, {
        metadata: { authorization: `Bearer ${dev1.token}` },
      });
      assert.equal(streamed.code, 0, streamed.details);
      const printed = streamed.messages.map((bytes) =>
        JSON.stringify(toJson(method.output, fromBinary(method.output, bytes)), null, 2)
      );
      assert.equal(printed.length, 2);
      const ids = printed.map((text) => JSON.parse(text).developer.id).sort();
      assert.deepEqual(ids, [dev1.id, dev2.id].sort());
      assert.match(printed.join("\n"), /"displayName": "developer \d+"/);
    } finally {
      client.close();
    }
  },
);

Deno.test(
  "native gRPC health: Check and Watch (grpc_health_probe, Kubernetes grpc probes)",
  opts,
  async () => {
    const { HealthCheckRequestSchema, HealthCheckResponseSchema } = await import(
      "@platform/proto/grpc/health/v1"
    );
    const { unaryCall } = await import("./grpc_js_client.ts");
    const client = grpcClient(target);
    try {
      const check = await unaryCall(
        client,
        "/grpc.health.v1.Health/Check",
        toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "" })),
      );
      assert.equal(check.code, 0, check.details);
      assert.equal(fromBinary(HealthCheckResponseSchema, check.messages[0]).status, 1); // SERVING
      const watch = await serverStreamCall(
        client,
        "/grpc.health.v1.Health/Watch",
        toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "" })),
        { deadlineMs: 1500 },
      );
      // Watch streams the status and stays open: the client's deadline ends it.
      assert.equal(watch.code, Code.DeadlineExceeded);
      assert.equal(fromBinary(HealthCheckResponseSchema, watch.messages[0]).status, 1);
    } finally {
      client.close();
    }
  },
);

Deno.test("teardown", opts, async () => {
  await env.stop();
});
