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

const root = new URL("../", import.meta.url).pathname;
const services = [
  { name: "users", main: "services/users/main.ts", port: "50051" },
  { name: "tasks", main: "services/tasks/main.ts", port: "50052" },
  { name: "orchestrator", main: "services/orchestrator/main.ts", port: "50053" },
  // WEB_PORT (8080) and the services' *_PORT variables reach it through the environment.
  { name: "web", main: "web/main.ts", port: undefined },
];

const dependencies = await startDependencies(root);

const children = services.map(({ name, main, port }) => {
  const env: Record<string, string> = { ...dependencies.env };
  if (port) env.PORT = Deno.env.get(`${name.toUpperCase()}_PORT`) ?? port;
  // Each process's name in traces (with OTEL_DENO=true); Deno reads it once, at start-up.
  env.OTEL_SERVICE_NAME = `freelance-${name}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main],
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
