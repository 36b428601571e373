/**
 * Every `deno task` has a description (shown by `deno task`), and every task that takes arguments
 * or starts something prints its usage on `--help` and exits 0 without starting anything.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;
const tasks = JSON.parse(await Deno.readTextFile(`${root}deno.json`)).tasks as Record<
  string,
  string | { description?: string; command: string }
>;

/** Tasks whose arguments go to Deno or bash themselves (deno test --help is Deno's own). */
const NOT_OURS = new Set(["test", "test:unit", "test:web", "gen", "check", "fmt", "lint", "ci"]);

Deno.test("every task has a description", () => {
  const bare = Object.entries(tasks).filter(([, t]) => typeof t === "string" || !t.description);
  assert.deepEqual(bare.map(([name]) => name), []);
});

Deno.test("--help prints usage and exits 0 for every task of ours", async () => {
  const names = Object.keys(tasks).filter((name) => !NOT_OURS.has(name));
  assert.ok(names.length >= 20, names.join());
  const failures: string[] = [];
  // Two at a time: the machine is shared.
  const queue = [...names];
  await Promise.all([0, 1].map(async () => {
    for (let name = queue.shift(); name; name = queue.shift()) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["task", "-q", name, "--help"],
        cwd: root,
        // Nothing to reach: a task that ignored --help would fail or hang instead of exiting 0.
        env: {
          DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
          NATS_URL: "nats://127.0.0.1:1",
          REDIS_URL: "redis://127.0.0.1:1",
          PORT: "1",
        },
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      if (out.code !== 0 || !/usage|deno task|options/i.test(text)) {
        failures.push(
          `${name}: exit ${out.code}: ${
            (text + new TextDecoder().decode(out.stderr)).slice(0, 300)
          }`,
        );
      }
    }
  }));
  assert.deepEqual(failures, []);
});
