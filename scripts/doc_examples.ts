/**
 * `deno task test:doc`: runs every `@example` of the lib's modules (`deno test --doc`), so that
 * an example that no longer compiles or runs fails CI. Examples that need servers or are
 * fragments are fenced as `ts ignore` (deno's rule: not type-checked, not run); every other one
 * runs. The vendored postgres.js, test files (they run in `deno task test`) and entry points
 * (`main.ts`, `*_main.ts`: importing one runs it) are left out.
 *
 * @module
 */
const ROOTS = ["lib"];

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(`usage: deno task test:doc

Runs every @example of the lib's modules with deno test --doc (fragments and examples that need
servers are fenced \`ts ignore\` and skipped). No options; exits with deno test's status.`);
  Deno.exit(0);
}

/** A module whose examples count: not a test, not an entry point (`main.ts`, `*_main.ts`, which
 * run when imported). */
function isModule(path: string): boolean {
  return path.endsWith(".ts") && !path.endsWith("_test.ts") && !/(^|[/_])main\.ts$/.test(path);
}

async function* modules(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory && entry.name !== "postgres_js") yield* modules(path);
    else if (entry.isFile && isModule(path)) yield path;
  }
}

const files: string[] = [];
for (const root of ROOTS) for await (const file of modules(root)) files.push(file);
files.sort();
const { code } = await new Deno.Command(Deno.execPath(), {
  args: ["test", "--doc", "--frozen", "-A", ...files],
  stdout: "inherit",
  stderr: "inherit",
}).output();
Deno.exit(code);
