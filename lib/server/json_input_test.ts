import assert from "node:assert/strict";
import {
  GetTaskRequestSchema,
  ListTasksRequestSchema,
  UpdateTaskRequestSchema,
} from "@platform/proto/tasks/v1";
import {
  SearchDevelopersRequestSchema,
  UpdateProfileRequestSchema,
} from "@platform/proto/users/v1";
import { jsonInputCheck, JsonInputError } from "./json_input.ts";

Deno.test("an unknown enum name is refused, naming the field; known names and numbers pass", () => {
  const check = jsonInputCheck(ListTasksRequestSchema);
  assert.throws(() => check('{"status":"TASK_STATUS_BOGUS"}'), (e: Error) => {
    assert.ok(e instanceof JsonInputError);
    assert.match(
      e.message,
      /^status: unknown TaskStatus value "TASK_STATUS_BOGUS"; expected one of/,
    );
    return true;
  });
  check('{"status":"TASK_STATUS_OPEN"}');
  check('{"status":99}'); // a number is the handler's to judge
  check('{"status":null}');
  check("{not json"); // protobuf-es reports malformed JSON itself
  const search = jsonInputCheck(SearchDevelopersRequestSchema);
  assert.throws(() => search('{"match":"ANY"}'), /match: unknown SkillMatch/);
  search('{"match":"SKILL_MATCH_ANY"}');
});

Deno.test("a key naming no field is refused, naming it, at any depth; proto and JSON names pass", () => {
  const update = jsonInputCheck(UpdateTaskRequestSchema);
  assert.throws(
    () => update('{"taskId":"x","required_skills":{"tags":["go"]}}'),
    (e: Error) => {
      assert.ok(e instanceof JsonInputError);
      assert.match(
        e.message,
        /^required_skills\.tags: unknown field "tags" of SkillList; its fields are skills$/,
      );
      return true;
    },
  );
  assert.throws(
    () => update('{"task_idd":"x"}'),
    /task_idd: unknown field "task_idd" of UpdateTaskRequest/,
  );
  assert.throws(
    () => update('{"budget":{"amount":5}}'),
    /budget\.amount: unknown field "amount" of Money/,
  );
  update(
    '{"task_id":"x","taskId":"x","requiredSkills":{"skills":["go"]},"deadline":"2030-01-01T00:00:00Z"}',
  );
  update('{"budget":{"currency":"USD","amount_minor":"5","amountMinor":"5"},"title":null}');
  update("{not json"); // protobuf-es reports malformed JSON itself
  // A flat request (scalars only) is vouched for by a key scan; what it cannot vouch for is parsed.
  const get = jsonInputCheck(GetTaskRequestSchema);
  assert.throws(() => get('{"id":"x"}'), /unknown field "id"/);
  assert.throws(() => get('{"task_id":"a\\":b", "id" :1}'), /unknown field "id"/);
  assert.throws(() => get('{"\\u0069d":"x"}'), /unknown field "id"/);
  get('{"task_id":{"nested":1}}'); // a wrong type is protobuf-es's to report
  get('{"task_id":"id\\":1"}'); // a colon inside a value is no key
  get('{ "taskId" : "x" }');
  get('{"task_id":"x"'); // malformed: protobuf-es reports it
});

Deno.test("a lone surrogate anywhere is refused; paired ones pass", () => {
  const check = jsonInputCheck(UpdateProfileRequestSchema);
  assert.throws(() => check('{"bio":"\\ud800"}'), /lone UTF-16 surrogate/);
  assert.throws(() => check('{"bio":"x\\udfffy"}'), /lone UTF-16 surrogate/);
  assert.throws(() => check('{"\\ud800":1}'), /lone UTF-16 surrogate/);
  check('{"bio":"\\ud83d\\ude00"}');
  check('{"bio":"😀"}');
});
