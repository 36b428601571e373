/** The one UUID check. No servers. */
import assert from "node:assert/strict";
import { isLowerCaseUuid, isUuid, UUID_SOURCE } from "./ids.ts";

Deno.test("isUuid: any case, the whole string", () => {
  const id = crypto.randomUUID();
  assert.ok(isUuid(id));
  assert.ok(isUuid(id.toUpperCase()));
  assert.ok(!isUuid(` ${id}`));
  assert.ok(!isUuid(`${id}0`));
  assert.ok(!isUuid(id.replaceAll("-", "")));
  assert.ok(!isUuid(""));
  assert.ok(!isUuid("g".repeat(8) + id.slice(8)));
});

Deno.test("isLowerCaseUuid: the stored form only", () => {
  const id = crypto.randomUUID();
  assert.ok(isLowerCaseUuid(id));
  assert.ok(!isLowerCaseUuid(id.toUpperCase()));
  assert.ok(new RegExp(UUID_SOURCE).test(`notify.${id}.x`));
});
