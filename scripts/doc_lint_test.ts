import assert from "node:assert/strict";
import { exportFiles, isOutside, memberOf, parseDocLint, pendingEntry } from "./doc_lint.ts";

// What deno doc --lint 2.9.6 prints (colours on), a warning about an npm package in between.
const output = [
  "\x1b[0m\x1b[1m\x1b[31merror[missing-jsdoc]\x1b[0m: exported symbol is missing JSDoc documentation",
  "  \x1b[0m\x1b[34m-->\x1b[0m /repo/lib/errors.ts:19:3",
  "   | ",
  "19 |   constructor(readonly field: string, readonly problem: string) {",
  "   |   ^",
  "",
  "",
  "Warning Failed resolving types. Could not find package 'node' from referrer 'x'.",
  "    at file:///root/.cache/deno/npm/registry.npmjs.org/ioredis/5.9.3/built/Command.d.ts:1:22",
  "error[private-type-ref]: public type 'GenMessage' references private type 'brandv2'",
  "  --> /root/.cache/deno/npm/registry.npmjs.org/@bufbuild/protobuf/2.17.0/types.d.ts:19:1",
  "   | ",
  "",
  "error: Found 2 documentation lint errors.",
].join("\n");

Deno.test("parseDocLint: each problem's rule, message and location, colours and warnings left out", () => {
  const problems = parseDocLint(output, "/repo/");
  assert.deepEqual(problems.map((p) => [p.kind, p.location]), [
    ["missing-jsdoc", "lib/errors.ts:19:3"],
    [
      "private-type-ref",
      "/root/.cache/deno/npm/registry.npmjs.org/@bufbuild/protobuf/2.17.0/types.d.ts:19:1",
    ],
  ]);
  assert.equal(problems[0].message, "exported symbol is missing JSDoc documentation");
  assert.match(problems[0].text, /constructor\(readonly field/);
  assert.doesNotMatch(problems[0].text, /Warning/);
  assert.ok(!problems[0].text.includes("\x1b"));
  assert.doesNotMatch(problems[1].text, /Found 2/);
});

Deno.test("parseDocLint: a clean run has no problems", () => {
  assert.deepEqual(parseDocLint("Checked 3 files\n", "/repo/"), []);
});

Deno.test("pendingEntry: by path prefix, and by rule when the entry names one", () => {
  const pending = [
    { path: "lib/log/", why: "rewritten" },
    { path: "proto/gen/", kind: "missing-jsdoc", why: "no comment in the .proto" },
  ];
  const at = (location: string, kind = "missing-jsdoc") => ({
    kind,
    location,
    message: "",
    text: "",
  });
  assert.equal(
    pendingEntry(at("lib/log/logger.ts:3:1", "private-type-ref"), pending)?.why,
    "rewritten",
  );
  assert.equal(pendingEntry(at("proto/gen/a_pb.ts:1:1"), pending)?.why, "no comment in the .proto");
  assert.equal(pendingEntry(at("proto/gen/a_pb.ts:1:1", "private-type-ref"), pending), undefined);
  assert.equal(pendingEntry(at("lib/logger.ts:1:1"), pending), undefined);
});

Deno.test("isOutside: absolute locations are outside the repository", () => {
  const at = (location: string) => ({ kind: "", location, message: "", text: "" });
  assert.equal(isOutside(at("/root/.cache/deno/npm/x.d.ts:1:1")), true);
  assert.equal(isOutside(at("lib/errors.ts:1:1")), false);
});

Deno.test("exportFiles: a string or a map of exports, relative to the root", () => {
  assert.deepEqual(exportFiles("./clients", "./mod.ts"), ["clients/mod.ts"]);
  assert.deepEqual(exportFiles("./lib", { "./db": "./db/mod.ts", "./errors": "./errors.ts" }), [
    "lib/db/mod.ts",
    "lib/errors.ts",
  ]);
  assert.deepEqual(exportFiles("./x", undefined), []);
});

Deno.test("memberOf: the longest member folder that holds the location", () => {
  const members = ["services/users", "services/users_extra", "lib"];
  assert.equal(memberOf("services/users/main.ts:1:1", members), "services/users");
  assert.equal(memberOf("services/users_extra/a.ts:1:1", members), "services/users_extra");
  assert.equal(memberOf("scripts/x.ts:1:1", members), "");
});
