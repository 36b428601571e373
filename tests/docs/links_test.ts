/**
 * Every relative link in the README, the docs and the services' READMEs points at a file of the
 * repository (README once linked an ARCHITECTURE.md that is not in it), and every bare mention of
 * a Markdown file names one that exists.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);

async function markdownFiles(): Promise<string[]> {
  const files = ["README.md"];
  for await (const e of Deno.readDir(new URL("docs/", root))) {
    if (e.name.endsWith(".md")) files.push(`docs/${e.name}`);
  }
  for (
    const dir of ["services/users", "services/tasks", "services/orchestrator", "clients", "web"]
  ) {
    try {
      await Deno.stat(new URL(`${dir}/README.md`, root));
      files.push(`${dir}/README.md`);
    } catch { /* none */ }
  }
  return files;
}

Deno.test("relative links in the Markdown files point at files that exist", async () => {
  const broken: string[] = [];
  for (const file of await markdownFiles()) {
    const text = await Deno.readTextFile(new URL(file, root));
    const base = new URL(file, root);
    const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1])
      .concat([...text.matchAll(/(?<![\w/.\[-])([A-Z][A-Za-z_-]*\.md)\b/g)].map((m) => m[1]));
    for (const target of targets) {
      if (/^[a-z]+:/.test(target) || target.startsWith("#")) continue;
      const path = target.split("#")[0];
      if (!path) continue;
      try {
        await Deno.stat(new URL(path, base));
      } catch {
        broken.push(`${file}: ${target}`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
