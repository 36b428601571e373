import assert from "node:assert/strict";
import { ListTasksRequestSchema } from "@platform/proto/tasks/v1";
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
  search('{"match":"SKILL_MATCH_ANY","unknown_field":"x"}'); // unknown fields stay ignored
});

Deno.test("a lone surrogate anywhere is refused; paired ones pass", () => {
  const check = jsonInputCheck(UpdateProfileRequestSchema);
  assert.throws(() => check('{"bio":"\\ud800"}'), /lone UTF-16 surrogate/);
  assert.throws(() => check('{"bio":"x\\udfffy"}'), /lone UTF-16 surrogate/);
  assert.throws(() => check('{"\\ud800":1}'), /lone UTF-16 surrogate/);
  check('{"bio":"\\ud83d\\ude00"}');
  check('{"bio":"😀"}');
});
