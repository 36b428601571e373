/**
 * Each service and the web app boot under the permissions their `deno task` grants (deno.json, no
 * `-A`), answer `/health` (the web app its page) and log no permission error: the flags are
 * enough, and nothing more than the tasks say is granted.
 */
import assert from "node:assert/strict";
import { NatsServer } from "../harness/nats_server.ts";
import { PostgresServer } from "../harness/postgres_server.ts";
import { spawnTracked } from "../harness/processes.ts";
import { RedisServer } from "../harness/redis_server.ts";
import { parseTaskRun, taskCommand } from "../../scripts/dev/task_flags.ts";

const root = new URL("../../", import.meta.url).pathname;
const PERMISSION_ERROR = /NotCapable|PermissionDenied|Requires \w+ access/;

async function runTask(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", ...args],
    cwd: root,
    env: { ...env, DENO_NO_PROMPT: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test("the long-running programs' tasks grant named permissions, never -A", async () => {
  for (const name of ["start:users", "start:tasks", "start:orchestrator", "start:web"]) {
    const { flags } = parseTaskRun(await taskCommand(name));
    assert.ok(!flags.some((f) => f === "-A" || f === "--allow-all"), `${name}: ${flags}`);
    assert.ok(flags.includes("--allow-net"), name);
  }
  // A service writes no file; it runs one program, its own native gRPC bridge (lib/server/README.md).
  const { flags } = parseTaskRun(await taskCommand("start:users"));
  assert.ok(!flags.some((f) => f.startsWith("--allow-write")), `start:users: ${flags}`);
  assert.ok(flags.includes("--allow-run"), `start:users runs its gRPC bridge: ${flags}`);
});

Deno.test({
  name: "services, web app, ops programs and tools run under their task's permissions",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const [pg, nats, redis] = await Promise.all([
      PostgresServer.start(),
      NatsServer.start(),
      RedisServer.start(),
    ]);
    const databaseUrl = await pg.createDatabase("freelance_platform");
    const started: { kill(signal?: Deno.Signal): void; status: Promise<Deno.CommandStatus> }[] = [];
    try {
      const ports: Record<string, number> = {};
      for (const name of ["start:users", "start:tasks", "start:orchestrator", "start:web"]) {
        const run = parseTaskRun(await taskCommand(name));
        const process = spawnTracked(Deno.execPath(), {
          args: ["run", "--quiet", ...run.flags, run.script],
          cwd: root,
          env: {
            ...run.env,
            PORT: "0",
            ...(name === "start:web" ? { WEB_PORT: "0" } : {}),
            HOST: "127.0.0.1",
            DATABASE_URL: databaseUrl,
            NATS_URL: nats.url,
            REDIS_URL: redis.url,
            USERS_URL: `http://127.0.0.1:${ports["start:users"] ?? 1}`,
            DENO_NO_PROMPT: "1",
          },
        });
        started.push(process);
        const line = await process.waitForLine(
          (l) => l.includes('"msg":"listening"'),
          90_000,
          `${name} to listen`,
        );
        ports[name] = JSON.parse(line).port;
        const path = name === "start:web" ? "/" : "/health";
        // A dependency is connected a moment after the port opens: healthy within 20 s.
        let res: Response, body: string;
        const until = Date.now() + 20_000;
        do {
          res = await fetch(`http://127.0.0.1:${ports[name]}${path}`);
          body = await res.text();
          if (res.status === 200) break;
          await new Promise((r) => setTimeout(r, 250));
        } while (Date.now() < until);
        assert.equal(
          res.status,
          200,
          `${name} ${path}: ${body.slice(0, 300)}\n${process.lines.slice(-10).join("\n")}`,
        );
        const denied = process.lines.filter((l) =>
          /NotCapable|PermissionDenied|Requires \w+ access/.test(l)
        );
        assert.deepEqual(denied, [], `${name} logged a permission error`);
      }
      // The ops programs and tools, as an operator runs them: `deno task <name>` (its flags).
      const backups = await Deno.makeTempDir();
      const env = {
        DATABASE_URL: databaseUrl,
        NATS_URL: nats.url,
        REDIS_URL: redis.url,
        USERS_URL: `http://127.0.0.1:${ports["start:users"]}`,
        TASKS_URL: `http://127.0.0.1:${ports["start:tasks"]}`,
        ORCHESTRATOR_URL: `http://127.0.0.1:${ports["start:orchestrator"]}`,
        BACKUP_DIR: backups,
      };
      const runs: [string[], number[]][] = [
        [["doctor"], [0, 1, 2]],
        [["maintenance", "--no-reindex"], [0, 1]],
        [["emergency", "flush-cache", "--yes"], [0]],
        [["emergency", "contacts"], [0]],
        [["scan", "--skip", "npm,os,trivy", "--root", backups], [0]],
        [["admin-token"], [0]],
        [["events:pub", "task.created", '{"demo":true}'], [0]],
        [["demo", "--count", "2", "--wait", "2"], [0]],
        [["backup"], [0]],
      ];
      for (const [args, codes] of runs) {
        const out = await runTask(args, env);
        assert.ok(
          codes.includes(out.code),
          `deno task ${args.join(" ")}: exit ${out.code}\n${out.text}`,
        );
        assert.doesNotMatch(out.text, PERMISSION_ERROR, `deno task ${args.join(" ")}`);
      }
      const name = (await Array.fromAsync(Deno.readDir(backups))).find((e) =>
        e.name.endsWith(".dump")
      )
        ?.name;
      assert.ok(name, "the backup wrote its dump");
      const verify = await runTask(["restore", "--verify", name], env);
      assert.equal(verify.code, 0, verify.text);
      assert.doesNotMatch(verify.text, PERMISSION_ERROR);
      await Deno.remove(backups, { recursive: true });
    } finally {
      for (const p of started) p.kill("SIGTERM");
      await Promise.all(started.map((p) => p.status));
      await Promise.all([pg.stop(), nats.stop(), redis.stop()]);
    }
  },
});
