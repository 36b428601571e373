/**
 * `deno task start` checks its ports before anything starts and names the variable that moves a
 * taken one; `--help` prints usage and starts nothing.
 */
import assert from "node:assert/strict";
import { busyPorts, busyPortsMessage, plannedPorts } from "./ports.ts";

const root = new URL("../../", import.meta.url).pathname;

function freePort(): number {
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test("planned ports: defaults, variables, bad values and twins named", () => {
  assert.deepEqual(plannedPorts({}).map((p) => `${p.variable}=${p.port}`), [
    "USERS_PORT=50051",
    "TASKS_PORT=50052",
    "ORCHESTRATOR_PORT=50053",
    "WEB_PORT=8080",
  ]);
  assert.equal(plannedPorts({ WEB_PORT: "9090" })[3].port, 9090);
  assert.throws(() => plannedPorts({ WEB_PORT: "eighty" }), /WEB_PORT must be a port number/);
  assert.throws(
    () => plannedPorts({ WEB_PORT: "50051" }),
    /USERS_PORT and WEB_PORT are both 50051/,
  );
});

Deno.test("a taken port is found and named with its variable", () => {
  const taken = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const busy = busyPorts(
      plannedPorts({
        USERS_PORT: String(freePort()),
        TASKS_PORT: "0",
        ORCHESTRATOR_PORT: "0",
        WEB_PORT: String(port),
      }),
      "127.0.0.1",
    );
    assert.deepEqual(busy.map((p) => p.variable), ["WEB_PORT"]);
    assert.match(
      busyPortsMessage(busy),
      new RegExp(`${port} \\(web app\\): .*set WEB_PORT=<free port>`),
    );
  } finally {
    taken.close();
  }
});

async function start(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/start_all.ts", ...args],
    cwd: root,
    env,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test("deno task start --help prints usage and starts nothing", async () => {
  const { code, text } = await start(["--help"], {});
  assert.equal(code, 0);
  assert.match(text, /^Usage: deno task start/);
  assert.match(text, /WEB_PORT/);
  assert.doesNotMatch(text, /\w+\s+\| /); // no process started (their lines are "name | ...")
});

Deno.test("deno task start with the web port taken names WEB_PORT and starts nothing", async () => {
  const taken = Deno.listen({ port: 0, hostname: "0.0.0.0" });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const started = performance.now();
    const { code, text } = await start([], {
      USERS_PORT: String(freePort()),
      TASKS_PORT: String(freePort()),
      ORCHESTRATOR_PORT: String(freePort()),
      WEB_PORT: String(port),
      // Where nothing answers: had the script got this far, it would have said so.
      DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
    });
    assert.equal(code, 1, text);
    assert.match(text, /cannot start: these ports are taken \(nothing was started\)/);
    assert.match(text, new RegExp(`${port} \\(web app\\).*set WEB_PORT=<free port>`));
    assert.doesNotMatch(text, /users\s+\||postgres/i);
    assert.ok(performance.now() - started < 15_000);
  } finally {
    taken.close();
  }
});
