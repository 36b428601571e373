/**
 * Runs the three services and the web app together, as `deno task start` does: each in its own
 * process, its log lines prefixed with its name. The web app listens on WEB_PORT (8080) and its
 * page calls the services on their ports, which allow its origin (CORS_ORIGINS's development
 * default). SIGINT or SIGTERM stops them all gracefully; if one dies,
 * the others are stopped too and the exit code says so.
 *
 * PostgreSQL, NATS and Redis come from DATABASE_URL, NATS_URL and REDIS_URL when set, else from
 * the servers answering on their default ports, else scripts/dev starts them (data under `.data/`,
 * or DEV_DATA_DIR) and stops them after the services.
 *
 * @module
 */
import { startDependencies } from "./dev/dependencies.ts";
import { busyPorts, busyPortsMessage, plannedPorts } from "./dev/ports.ts";
import { parseTaskRun, taskCommand } from "./dev/task_flags.ts";

const USAGE = `Usage: deno task start

Starts the User Service (:50051), Task Service (:50052), Orchestrator (:50053) and the web app
(http://localhost:8080), with PostgreSQL, NATS and Redis: DATABASE_URL, NATS_URL, REDIS_URL when
set, else the servers on 5432, 4222, 6379, else its own (data under .data/ or DEV_DATA_DIR).
Ctrl-C stops everything it started.

Ports: USERS_PORT, TASKS_PORT, ORCHESTRATOR_PORT, WEB_PORT (checked free before anything starts).
One service alone: deno task start:users (start:tasks, start:orchestrator, start:web).
Details: docs/operations.md, "Running it on one machine".`;

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(USAGE);
  Deno.exit(0);
}
if (Deno.args.length > 0) {
  console.error(`unexpected argument "${Deno.args[0]}"\n\n${USAGE}`);
  Deno.exit(64);
}

const root = new URL("../", import.meta.url).pathname;

// Every port checked before anything starts: a taken one is named with the variable that moves it.
try {
  const busy = busyPorts(plannedPorts(Deno.env.toObject()), Deno.env.get("HOST") || "0.0.0.0");
  if (busy.length > 0) {
    console.error(busyPortsMessage(busy));
    Deno.exit(1);
  }
} catch (error) {
  console.error(`cannot start: ${error instanceof Error ? error.message : error}`);
  Deno.exit(64);
}
const services = [
  { name: "users", main: "services/users/main.ts", port: "50051" },
  { name: "tasks", main: "services/tasks/main.ts", port: "50052" },
  { name: "orchestrator", main: "services/orchestrator/main.ts", port: "50053" },
  // WEB_PORT (8080) and the services' *_PORT variables reach it through the environment.
  { name: "web", main: "web/main.ts", port: undefined },
];

const dependencies = await startDependencies(root);

// Each program with the permissions of its own task (deno.json: start:users, ..., start:web).
const flags = Object.fromEntries(
  await Promise.all(
    services.map(async ({ name }) =>
      [name, parseTaskRun(await taskCommand(`start:${name}`)).flags] as const
    ),
  ),
);

const children = services.map(({ name, main, port }) => {
  const env: Record<string, string> = { ...dependencies.env };
  if (port) env.PORT = Deno.env.get(`${name.toUpperCase()}_PORT`) ?? port;
  // The Orchestrator calls the User Service wherever USERS_PORT put it.
  if (name === "orchestrator" && !Deno.env.get("USERS_URL")) {
    env.USERS_URL = `http://127.0.0.1:${Deno.env.get("USERS_PORT") || "50051"}`;
  }
  // Each process's name in traces (with OTEL_DENO=true); Deno reads it once, at start-up.
  env.OTEL_SERVICE_NAME = `freelance-${name}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags[name], main],
    cwd: root,
    env: {
      ...env,
      // A 4 MiB young generation, as in the image (deploy/Dockerfile): less resident memory.
      DENO_V8_FLAGS: Deno.env.get("DENO_V8_FLAGS") ?? "--max-semi-space-size=4",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  prefix(name, child.stdout, Deno.stdout);
  prefix(name, child.stderr, Deno.stderr);
  return { name, child };
});

let stopping = false;
function stopAll(signal: Deno.Signal) {
  if (stopping) return;
  stopping = true;
  for (const { child } of children) {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  }
}
Deno.addSignalListener("SIGINT", () => stopAll("SIGTERM"));
Deno.addSignalListener("SIGTERM", () => stopAll("SIGTERM"));

const first = await Promise.race(
  children.map(async ({ name, child }) => ({ name, status: await child.status })),
);
if (!stopping) {
  console.error(`${first.name} exited with code ${first.status.code}; stopping the others`);
  stopAll("SIGTERM");
}
const statuses = await Promise.all(children.map(({ child }) => child.status));
await dependencies.stop();
Deno.exit(statuses.every((s) => s.code === 0) ? 0 : 1);

async function prefix(name: string, stream: ReadableStream<Uint8Array>, out: typeof Deno.stdout) {
  const label = `${name.padEnd(12)}| `;
  let buffer = "";
  const encoder = new TextEncoder();
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    if (lines.length) {
      await out.write(encoder.encode(lines.map((l) => label + l).join("\n") + "\n"));
    }
  }
  if (buffer) await out.write(encoder.encode(label + buffer + "\n"));
}
