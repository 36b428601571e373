/**
 * `deno task gen` writes docs/api.md with this (and `deno task gen:check` compares): the API
 * reference rendered from proto/'s descriptors and comments, read with the pinned `buf build`.
 *
 *   deno run -A scripts/api_docs.ts           # write docs/api.md
 *   deno run -A scripts/api_docs.ts --check   # exit 1 when docs/api.md is stale
 *
 * @module
 */
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { exitOnHelp, moduleDoc } from "@platform/lib/config";
import { renderApiReference } from "./api_docs/render.ts";

const root = new URL("../", import.meta.url).pathname;
/** Where the reference is written. */
export const API_DOC = `${root}docs/api.md`;

/**
 * The reference as rendered from proto/ now.
 *
 * @example
 * ```ts
 * const markdown = await renderFromProtos();
 * ```
 */
export async function renderFromProtos(): Promise<string> {
  const out = await new Deno.Command(`${root}tools/node_modules/.bin/buf`, {
    args: ["build", "--as-file-descriptor-set", "-o", "-#format=binpb"],
    cwd: `${root}proto`,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`buf build failed: ${new TextDecoder().decode(out.stderr)}`);
  const markdown = renderApiReference(fromBinary(FileDescriptorSetSchema, out.stdout));
  return await formatMarkdown(markdown);
}

/** The text as `deno fmt` leaves it (the repository's settings), so that fmt --check passes. */
async function formatMarkdown(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=md", "-"],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) throw new Error(`deno fmt failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

if (import.meta.main) {
  exitOnHelp(moduleDoc(import.meta.url));
  const fresh = await renderFromProtos();
  if (Deno.args.includes("--check")) {
    const committed = await Deno.readTextFile(API_DOC).catch(() => "");
    if (committed !== fresh) {
      console.error("docs/api.md is out of date; run `deno task gen`");
      Deno.exit(1);
    }
  } else {
    await Deno.writeTextFile(API_DOC, fresh);
    console.log(`wrote ${API_DOC}`);
  }
}
