/**
 * The vendored postgres.js (`lib/db/postgres_js/src/`) is exactly the pinned upstream release
 * (npm `postgres@3.4.9`, the import map's `postgres-upstream`, from Deno's npm cache) with
 * `fp.patch` applied: nothing changed by hand outside the patch, and the patch still applies.
 * Needs `patch` (Debian's `patch` package) and the npm cache filled (`deno install`). No servers.
 */
import assert from "node:assert/strict";

const VERSION = "3.4.9";
const vendored = new URL("./postgres_js/", import.meta.url);

async function npmCacheDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { npmCache: string };
  return info.npmCache;
}

async function listFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) if (entry.isFile) names.push(entry.name);
  return names.sort();
}

Deno.test("lib/db/postgres_js/src is postgres@3.4.9's src plus fp.patch", async () => {
  const upstream = `${await npmCacheDir()}/registry.npmjs.org/postgres/${VERSION}/src`;
  const present = await Deno.stat(upstream).then(() => true, () => false);
  assert.ok(present, `${upstream} is missing: run ./deno install (postgres-upstream)`);
  const work = await Deno.makeTempDir({ prefix: "postgres_js_drift_" });
  try {
    await Deno.mkdir(`${work}/src`);
    for (const name of await listFiles(upstream)) {
      await Deno.copyFile(`${upstream}/${name}`, `${work}/src/${name}`);
    }
    const patched = await new Deno.Command("patch", {
      args: ["-p1", "--batch", "--forward", "-i", new URL("fp.patch", vendored).pathname],
      cwd: work,
      stdout: "piped",
      stderr: "piped",
    }).output().catch((error) => {
      throw new Error(`cannot run patch (apt-get install patch): ${error.message}`);
    });
    const log = new TextDecoder().decode(patched.stdout) + new TextDecoder().decode(patched.stderr);
    assert.equal(patched.code, 0, `fp.patch no longer applies to postgres@${VERSION}:\n${log}`);
    assert.doesNotMatch(log, /offset|fuzz/i, `fp.patch applies only loosely:\n${log}`);

    const ours = new URL("src/", vendored).pathname;
    const expected = (await listFiles(`${work}/src`)).filter((n) => !/\.(orig|rej)$/.test(n));
    assert.deepEqual(await listFiles(ours), expected, "the vendored src/ has other files");
    for (const name of expected) {
      const want = await Deno.readTextFile(`${work}/src/${name}`);
      const have = await Deno.readTextFile(`${ours}${name}`);
      assert.ok(
        have === want,
        `lib/db/postgres_js/src/${name} differs from upstream + fp.patch: regenerate fp.patch ` +
          `(diff -ru a/src b/src) or undo the change`,
      );
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
