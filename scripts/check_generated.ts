/**
 * Fails when proto/gen is stale: regenerates the TypeScript from proto/ into a temporary folder
 * with the pinned buf and protoc-gen-es, and compares it file by file with what is committed.
 * Also runs `buf lint`. Fix a failure with `deno task gen`.
 *
 * @module
 */
import { exitOnHelp } from "@platform/lib/config";
import { API_DOC, renderFromProtos } from "./api_docs.ts";

exitOnHelp(`Usage: deno task gen:check

Regenerates proto/gen into a temporary folder (pinned buf and protoc-gen-es), compares it with what
is committed, runs buf lint, and renders docs/api.md from the protos' comments to compare it too;
exit 1 when either is stale (fix: deno task gen). Takes no arguments.`);

const root = new URL("../", import.meta.url).pathname;
const buf = `${root}tools/node_modules/.bin/buf`;

async function run(args: string[]): Promise<void> {
  const result = await new Deno.Command(buf, { args, cwd: `${root}proto` }).output();
  if (!result.success) {
    console.error(new TextDecoder().decode(result.stderr));
    Deno.exit(1);
  }
}

async function listFiles(dir: string, prefix = ""): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const entry of Deno.readDir(dir)) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) {
      for (const [k, v] of await listFiles(`${dir}/${entry.name}`, `${path}/`)) files.set(k, v);
    } else {
      files.set(path, await Deno.readTextFile(`${dir}/${entry.name}`));
    }
  }
  return files;
}

await run(["lint"]);
const out = await Deno.makeTempDir({ prefix: "fp-gen-" });
try {
  await run(["generate", "-o", out]);
  const fresh = await listFiles(`${out}/gen`);
  const committed = await listFiles(`${root}proto/gen`);
  const problems: string[] = [];
  for (const [path, text] of fresh) {
    if (!committed.has(path)) problems.push(`missing: proto/gen/${path}`);
    else if (committed.get(path) !== text) problems.push(`stale: proto/gen/${path}`);
  }
  for (const path of committed.keys()) {
    if (!fresh.has(path)) problems.push(`not generated from any .proto: proto/gen/${path}`);
  }
  if (problems.length > 0) {
    console.error(
      `generated code is out of date; run \`deno task gen\`:\n  ${problems.join("\n  ")}`,
    );
    Deno.exit(1);
  }
  console.log(`proto/gen is up to date (${fresh.size} files); buf lint clean`);
  // The API reference is generated from the same protos and their comments.
  const apiDoc = await renderFromProtos();
  if ((await Deno.readTextFile(API_DOC).catch(() => "")) !== apiDoc) {
    console.error("docs/api.md is out of date; run `deno task gen`");
    Deno.exit(1);
  }
  console.log("docs/api.md is up to date");
} finally {
  await Deno.remove(out, { recursive: true });
}
