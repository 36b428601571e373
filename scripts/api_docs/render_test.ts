/**
 * The API reference: rendered from the real protos, it lists every RPC of every platform service
 * with the comment above it in proto/, every message's fields with theirs, and the committed
 * docs/api.md is what it renders now (as `deno task gen:check` requires).
 */
import assert from "node:assert/strict";
import { API_DOC, renderFromProtos } from "../api_docs.ts";
import { NotificationService } from "@platform/proto/notifications/v1";
import { OrchestratorService } from "@platform/proto/orchestrator/v1";
import { TaskService } from "@platform/proto/tasks/v1";
import { UserService } from "@platform/proto/users/v1";

const markdown = await renderFromProtos();

Deno.test("every RPC of every service is listed with its comment", () => {
  for (const service of [UserService, TaskService, OrchestratorService, NotificationService]) {
    assert.match(markdown, new RegExp(`### ${service.typeName.replace(/\./g, "\\.")}\\n`));
    for (const method of service.methods) {
      const row = markdown.split("\n").find((l) => l.startsWith(`| \`${method.name}\``));
      assert.ok(row, `${service.typeName}/${method.name} listed`);
      assert.ok(row.split("|")[4].trim().length > 10, `${method.name} has its comment`);
    }
  }
  assert.match(markdown, /\| `Watch` .* stream \[`platform\.notifications\.v1\.WatchResponse`\]/);
  assert.match(markdown, /platform\.users\.v1\.UserService.* on :50051/);
});

Deno.test("messages list their fields with types and comments; enums their values", () => {
  assert.match(markdown, /#### platform\.common\.v1\.Money\n/);
  assert.match(
    markdown,
    /\| `amount_minor` +\| 2 +\| `int64` +\| Amount in minor units: 1500 with "USD" is \$15\.00\. +\|/,
  );
  assert.match(markdown, /\| `deadline` +\| \d+ +\| `google\.protobuf\.Timestamp` +\|/);
  assert.match(
    markdown,
    /\| `TASK_STATUS_EXPIRED` +\| 6 +\| An OPEN task whose deadline passed; terminal\. +\|/,
  );
  assert.match(markdown, /\| `title` +\| 2 +\| optional `string` +\|/);
});

Deno.test("the committed docs/api.md is fresh", async () => {
  assert.equal(await Deno.readTextFile(API_DOC), markdown, "run `deno task gen`");
});
