import assert from "node:assert/strict";
import { ValidationError } from "../errors.ts";
import { MAX_SKILL_TAGS, normalizeSkillTags } from "./skill_tags.ts";

Deno.test("tags are trimmed, lower-cased, hyphenated, deduplicated and sorted", () => {
  assert.deepEqual(normalizeSkillTags([" Go ", "GO", "Node  JS", "c++", "C#", ""]), [
    "c#",
    "c++",
    "go",
    "node-js",
  ]);
});

Deno.test("too many, too long or strange tags are refused naming the field", () => {
  const many = Array.from({ length: MAX_SKILL_TAGS + 1 }, (_, i) => `t${i}`);
  assert.throws(() => normalizeSkillTags(many), (e: ValidationError) => e.field === "skill_tags");
  assert.throws(() => normalizeSkillTags(["x".repeat(41)]), ValidationError);
  assert.throws(() => normalizeSkillTags(["drop table;"]), ValidationError);
  assert.throws(() => normalizeSkillTags(["-leading"]), ValidationError);
  // Duplicates collapse before counting.
  assert.equal(normalizeSkillTags(Array(MAX_SKILL_TAGS * 2).fill("go")).length, 1);
});
